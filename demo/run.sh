#!/usr/bin/env bash
# Runs the tokengate demo on this machine: an OpenID provider (oidc-provider), two echo APIs,
# the demo page, and the gateway in front of them, all on 127.0.0.1. Ctrl-C stops everything.
#
#   bash demo/run.sh
#
# Installs what is missing first (the demo's npm packages, cmake for the gateway build), so it
# works on a fresh machine. Logs of the helper processes go to demo/logs/; the gateway logs here.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
demo="$root/demo"
logs="$demo/logs"

PROVIDER_PORT=9400
STATIC_PORT=9100
ORDERS_PORT=9101
PROFILE_PORT=9102
GATEWAY_PORT=8080
GATEWAY_URL="http://127.0.0.1:$GATEWAY_PORT"

pids=()
names=()

say() { printf 'demo: %s\n' "$*"; }
die() { printf 'demo: %s\n' "$*" >&2; exit 1; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

# shellcheck disable=SC2317  # invoked through the trap below
cleanup() {
  trap - EXIT INT TERM
  if [ "${#pids[@]}" -gt 0 ]; then
    say "stopping ${names[*]}"
    kill "${pids[@]}" 2>/dev/null || true
    wait "${pids[@]}" 2>/dev/null || true
  fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

port_answers() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# start NAME LOGFILE|- COMMAND...: runs COMMAND in the background and remembers it for cleanup.
start() {
  local name="$1" log="$2"
  shift 2
  if [ "$log" = "-" ]; then "$@" & else "$@" >"$log" 2>&1 & fi
  pids+=("$!")
  names+=("$name")
}

# wait_for NAME PORT: until the port accepts connections; fails if the process died meanwhile.
wait_for() {
  local name="$1" port="$2" pid="${pids[-1]}" tries=0
  until port_answers "$port"; do
    if ! kill -0 "$pid" 2>/dev/null; then
      [ -f "$logs/$name.log" ] && tail -n 20 "$logs/$name.log" >&2
      die "$name exited before listening on port $port"
    fi
    tries=$((tries + 1))
    [ "$tries" -le 300 ] || die "$name did not listen on port $port within 60 s"
    sleep 0.2
  done
}

# --- prerequisites --------------------------------------------------------------------------
command -v node >/dev/null || die "node is missing: install Node.js 20 or later"
command -v npm >/dev/null || die "npm is missing: install it with Node.js"
command -v cargo >/dev/null || die "cargo is missing: install the Rust toolchain (rustup)"

if [ ! -d "$demo/node_modules" ]; then
  say "installing the demo's npm packages (npm ci in demo/)"
  (cd "$demo" && npm ci --no-audit --no-fund)
fi

if ! command -v cmake >/dev/null; then
  echo "installing cmake (needed by pingora-core) with apt-get"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq cmake
fi

for port in "$PROVIDER_PORT" "$STATIC_PORT" "$ORDERS_PORT" "$PROFILE_PORT" "$GATEWAY_PORT"; do
  if port_answers "$port"; then die "port $port is already in use on 127.0.0.1"; fi
done

# --- the gateway ----------------------------------------------------------------------------
say "building the gateway (cargo build --release; this takes a few minutes the first time)"
(cd "$root" && cargo build --release)
target_dir="${CARGO_TARGET_DIR:-target}"
case "$target_dir" in /*) ;; *) target_dir="$root/$target_dir" ;; esac
tokengate="$target_dir/release/tokengate"
[ -x "$tokengate" ] || die "the build produced no $tokengate"

if [ -z "${TOKENGATE_SESSION_KEY:-}" ]; then
  TOKENGATE_SESSION_KEY="$("$tokengate" keygen)"
  export TOKENGATE_SESSION_KEY
  say "generated a session key for this run (set TOKENGATE_SESSION_KEY to keep sessions across runs)"
fi

# --- the demo's services --------------------------------------------------------------------
mkdir -p "$logs"
if [ -z "${DEMO_ASSERTION_KEY:-}" ]; then
  DEMO_ASSERTION_KEY="$logs/assertion.pem"
  node -e "const c = require('node:crypto'); const { privateKey } = c.generateKeyPairSync('ec', { namedCurve: 'P-256' }); require('node:fs').writeFileSync(process.argv[1], privateKey.export({ format: 'pem', type: 'pkcs8' }), { mode: 0o600 });" "$DEMO_ASSERTION_KEY"
  export DEMO_ASSERTION_KEY
  say "generated the identity-assertion key $DEMO_ASSERTION_KEY"
fi
start provider "$logs/provider.log" node "$demo/provider.mjs" --port "$PROVIDER_PORT" \
  --gateway "$GATEWAY_URL" --client-secret "${DEMO_CLIENT_SECRET:-demo-secret}"
wait_for provider "$PROVIDER_PORT"
start orders "$logs/orders.log" node "$demo/echo.mjs" --port "$ORDERS_PORT" --name orders
wait_for orders "$ORDERS_PORT"
start profile "$logs/profile.log" node "$demo/echo.mjs" --port "$PROFILE_PORT" --name profile
wait_for profile "$PROFILE_PORT"
start static "$logs/static.log" node "$demo/static.mjs" --port "$STATIC_PORT"
wait_for static "$STATIC_PORT"

cd "$root"
start tokengate - "$tokengate" run --config demo/routes.yaml
wait_for tokengate "$GATEWAY_PORT"

echo
echo "Open $GATEWAY_URL/ — log in with any name and password; a name starting with \"admin\""
echo "(e.g. admin-ann) may use the Admin API, another (e.g. bob) gets 403 there"
echo "(helper logs in demo/logs/; Ctrl-C stops everything)"
echo

# Run until Ctrl-C or until any process stops; then the EXIT trap stops the others.
status=0
wait -n "${pids[@]}" || status=$?
die "a demo process stopped (exit status $status); stopping the others"
