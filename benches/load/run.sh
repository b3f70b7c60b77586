#!/usr/bin/env bash
# Load benchmarks of tokengate against nginx (plain reverse proxy: the floor) and Apache httpd
# with mod_auth_openidc (the peer that does the same job), all on 127.0.0.1. BENCHMARKS.md at
# the repository root explains what is measured and what limits each figure.
#
#   benches/load/run.sh [--rounds 5] [--duration 10s] [--paced-rounds 5] [--pace-ms 5]
#                       [--storm-sessions 20] [--profile] [--wait-idle MINUTES] [--skip-build]
#                       [--no-passthrough]
#
# It builds the release binary with symbols (Cargo profile `profiling`), starts an nginx
# upstream, nginx as a proxy, Apache + mod_auth_openidc, two demo OpenID providers and tokengate,
# logs in through each relying party with a scripted browser, checks that each proxy forwards
# a Bearer token, then runs wrk against every system in alternation (A B C … A B C …) and
# prints medians in Markdown. Then latency at a moderate load: the same systems again, each wrk
# connection waiting --pace-ms between requests (--paced-rounds rounds of 5 s; 0 skips it), so
# all see about the same offered rate and p99 compares work per request rather than queues at
# saturation. Then the refresh storm, and with --profile a perf profile of the
# cache-hit path. Load generation stays bounded: rounds × systems × duration (300 s by default).
# Raw results, logs and the report land in $CARGO_TARGET_DIR/bench-load/<timestamp>/.
# A row for a bare pingora proxy (examples/pingora_passthrough.rs, built with the gateway)
# separates pingora's own cost from tokengate's; --no-passthrough leaves it out.
#
# Missing tools are installed with apt-get (Debian/Ubuntu), and the script says so: nginx, wrk,
# apache2, libapache2-mod-auth-openidc, curl, and linux-perf for --profile. Installing apache2
# on a systemd machine enables Debian's apache2.service; this script never uses it (its servers
# run as its own children, on their own config files, in a temporary directory).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"

ROUNDS=5
DURATION=10s
WARMUP=2s
CONNECTIONS=32
WRK_THREADS=2
PACED_ROUNDS=5
PACED_DURATION=5s
PACE_MS=5
STORM_SESSIONS=20
PROFILE=0
WAIT_IDLE=0
BUILD=1
PASSTHROUGH=1

say() { printf 'bench: %s\n' "$*" >&2; }
die() { printf 'bench: %s\n' "$*" >&2; exit 1; }

while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) ROUNDS="${2:-}"; shift $(($# > 1 ? 2 : 1)) ;;
    --duration) DURATION="${2:-}"; shift $(($# > 1 ? 2 : 1)) ;;
    --paced-rounds) PACED_ROUNDS="${2:-}"; shift $(($# > 1 ? 2 : 1)) ;;
    --pace-ms) PACE_MS="${2:-}"; shift $(($# > 1 ? 2 : 1)) ;;
    --storm-sessions) STORM_SESSIONS="${2:-}"; shift $(($# > 1 ? 2 : 1)) ;;
    --profile) PROFILE=1; shift ;;
    --wait-idle) WAIT_IDLE="${2:-}"; shift $(($# > 1 ? 2 : 1)) ;;
    --skip-build) BUILD=0; shift ;;
    --no-passthrough) PASSTHROUGH=0; shift ;;
    -h | --help) sed -n '2,26p' "$0"; exit 0 ;;
    *) die "unknown argument $1 (see --help)" ;;
  esac
done
[[ "$ROUNDS" =~ ^[1-9][0-9]?$ ]] || die "--rounds must be 1..99"
[[ "$DURATION" =~ ^[1-9][0-9]?s$ ]] || die "--duration must be 1s..99s"
[[ "$PACED_ROUNDS" =~ ^[0-9]$ ]] || die "--paced-rounds must be 0..9"
[[ "$PACE_MS" =~ ^[1-9][0-9]{0,2}$ ]] || die "--pace-ms must be 1..999"
[[ "$STORM_SESSIONS" =~ ^[1-9][0-9]{0,2}$ ]] || die "--storm-sessions must be 1..999"
[[ "$WAIT_IDLE" =~ ^[0-9]+$ ]] || die "--wait-idle takes minutes"
# Every wrk run is bounded by -d; the whole run's load generation by this.
n_systems=$((6 + PASSTHROUGH))
load_seconds=$(((ROUNDS * ${DURATION%s} + ${WARMUP%s}) * n_systems + PROFILE * ${DURATION%s}
  + PACED_ROUNDS * ${PACED_DURATION%s} * (n_systems - 1)))
[ "$load_seconds" -le 600 ] || die "$load_seconds s of load is more than this script allows (600): lower --rounds or --duration"

# --- processes: every child is remembered and stopped on exit ------------------------------
pids=()
names=()
signals=()

# shellcheck disable=SC2317  # invoked through the trap below
cleanup() {
  trap - EXIT INT TERM
  local i
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
    [ -n "${pids[i]}" ] && stop_index "$i"
  done
  if [ -n "${work:-}" ] && [ -d "$work" ]; then
    for log in "$work"/*/error.log; do
      [ -f "$log" ] && cp "$log" "$out/$(basename "$(dirname "$log")")-error.log"
    done
    rm -rf "$work"
  fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# stop_index I: the child's own stop signal, then SIGKILL after 5 s.
stop_index() {
  local pid="${pids[$1]}" tries=0
  kill "-${signals[$1]}" "$pid" 2>/dev/null || true
  while kill -0 "$pid" 2>/dev/null && [ "$tries" -lt 50 ]; do
    sleep 0.1
    tries=$((tries + 1))
  done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  pids[$1]=""
}

# stop NAME: stops the child started under that name.
stop() {
  local i
  for i in "${!names[@]}"; do
    if [ "${names[i]}" = "$1" ] && [ -n "${pids[i]}" ]; then stop_index "$i"; fi
  done
}

# start NAME SIGNAL COMMAND...: runs COMMAND in the background, output added to $out/NAME.log.
start() {
  local name="$1" signal="$2"
  shift 2
  "$@" >>"$out/$name.log" 2>&1 &
  pids+=("$!")
  names+=("$name")
  signals+=("$signal")
}

# pid_of NAME: the running child started under that name.
pid_of() {
  local i
  for i in "${!names[@]}"; do
    if [ "${names[i]}" = "$1" ] && [ -n "${pids[i]}" ]; then echo "${pids[i]}"; return; fi
  done
}

port_answers() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# free_port VAR: sets VAR to a port below the kernel's ephemeral range (where outgoing connections
# take their local ports, which a listener then cannot bind), not taken by any socket, and not
# handed out before. (A variable, not an echo: a $(subshell) would forget the ports handed out.)
used_ports=" "
ephemeral_low="$(cut -f1 /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || echo 32768)"
free_port() {
  local port span=$((ephemeral_low - 20000))
  [ "$span" -gt 1000 ] || die "the ephemeral port range starts at $ephemeral_low: no room below it"
  while :; do
    port=$((20000 + (RANDOM * 32768 + RANDOM) % span))
    case "$used_ports" in *" $port "*) continue ;; esac
    [ -z "$(ss -Htan "( sport = :$port )" 2>/dev/null)" ] || continue
    used_ports+="$port "
    printf -v "$1" '%s' "$port"
    return
  done
}

# wait_for NAME PORT: until the port accepts connections; fails if the child died meanwhile.
wait_for() {
  local name="$1" port="$2" pid tries=0
  pid="$(pid_of "$name")"
  until port_answers "$port"; do
    if ! kill -0 "$pid" 2>/dev/null; then
      tail -n 20 "$out/$name.log" >&2 || true
      die "$name exited before listening on port $port"
    fi
    tries=$((tries + 1))
    [ "$tries" -le 300 ] || die "$name did not listen on port $port within 60 s"
    sleep 0.2
  done
}

# render TEMPLATE OUTPUT KEY=VALUE...: replaces @KEY@ (values hold no '|').
render() {
  local template="$1" output="$2" expr=() kv
  shift 2
  for kv in "$@"; do expr+=(-e "s|@${kv%%=*}@|${kv#*=}|g"); done
  sed "${expr[@]}" "$template" >"$output"
  if grep -q '@[A-Z_]*@' "$output"; then die "unrendered placeholder in $output"; fi
}

# --- prerequisites ----------------------------------------------------------------------------
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
command -v node >/dev/null || die "node is missing: install Node.js 20 or later"
command -v cargo >/dev/null || die "cargo is missing: install the Rust toolchain"
need=()
command -v nginx >/dev/null || need+=(nginx)
command -v wrk >/dev/null || need+=(wrk)
command -v curl >/dev/null || need+=(curl)
command -v apache2 >/dev/null || need+=(apache2)
[ -f /usr/lib/apache2/modules/mod_auth_openidc.so ] || need+=(libapache2-mod-auth-openidc)
if [ "$PROFILE" = 1 ] && ! command -v perf >/dev/null; then need+=(linux-perf); fi
if [ "${#need[@]}" -gt 0 ]; then
  say "installing ${need[*]} with apt-get"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}"
fi
if [ ! -d "$root/demo/node_modules" ]; then
  say "installing the demo's npm packages (npm ci in demo/)"
  (cd "$root/demo" && npm ci --no-audit --no-fund)
fi

if [ "$WAIT_IDLE" -gt 0 ]; then
  for ((i = 0; i <= WAIT_IDLE; i++)); do
    load1="$(cut -d' ' -f1 /proc/loadavg)"
    awk -v l="$load1" 'BEGIN { exit !(l < 1.0) }' && break
    [ "$i" -lt "$WAIT_IDLE" ] || die "load average still $load1 after $WAIT_IDLE minutes"
    say "load average $load1 ≥ 1.0; waiting a minute"
    sleep 60
  done
fi

# --- build ------------------------------------------------------------------------------------
target_dir="${CARGO_TARGET_DIR:-target}"
case "$target_dir" in /*) ;; *) target_dir="$root/$target_dir" ;; esac
if [ "$BUILD" = 1 ]; then
  # The profiling profile: release code with symbols and line tables, so perf can name functions
  # (the release profile strips them).
  say "building the release binaries with symbols (cargo build --profile profiling --locked --bin tokengate --example pingora_passthrough)"
  (cd "$root" && cargo build --profile profiling --locked --bin tokengate --example pingora_passthrough)
fi
tokengate="$target_dir/profiling/tokengate"
[ -x "$tokengate" ] || die "no $tokengate: build it first"
PASSTHROUGH_BIN=""
if [ "$PASSTHROUGH" = 1 ]; then
  PASSTHROUGH_BIN="$target_dir/profiling/examples/pingora_passthrough"
  [ -x "$PASSTHROUGH_BIN" ] || die "no $PASSTHROUGH_BIN: build it first, or use --no-passthrough"
fi

out="$target_dir/bench-load/$(date +%Y%m%d-%H%M%S)"
mkdir -p "$out"
work="$(mktemp -d "${TMPDIR:-/tmp}/tokengate-bench.XXXXXX")"
chmod 755 "$work"
mkdir -p "$work/nginx-upstream" "$work/nginx-proxy" "$work/apache/run"

# shellcheck source=benches/load/measure.sh source-path=SCRIPTDIR/../..
source "$here/measure.sh"

# --- the servers ------------------------------------------------------------------------------
free_port UPSTREAM_PORT
free_port NGINX_PORT
free_port APACHE_PORT
free_port TOKENGATE_PORT
free_port PROVIDER_PORT
free_port APACHE_PROVIDER_PORT
upstream="http://127.0.0.1:$UPSTREAM_PORT"
nginx_url="http://127.0.0.1:$NGINX_PORT"
apache_url="http://127.0.0.1:$APACHE_PORT"
tg_url="http://127.0.0.1:$TOKENGATE_PORT"
provider_url="http://127.0.0.1:$PROVIDER_PORT"

render "$here/conf/nginx-upstream.conf" "$work/nginx-upstream/nginx.conf" "DIR=$work" "UPSTREAM_PORT=$UPSTREAM_PORT"
start nginx-upstream QUIT nginx -p "$work/nginx-upstream" -c "$work/nginx-upstream/nginx.conf" -g 'daemon off;'
wait_for nginx-upstream "$UPSTREAM_PORT"

render "$here/conf/nginx-proxy.conf" "$work/nginx-proxy/nginx.conf" "DIR=$work" \
  "UPSTREAM_PORT=$UPSTREAM_PORT" "NGINX_PORT=$NGINX_PORT"
start nginx QUIT nginx -p "$work/nginx-proxy" -c "$work/nginx-proxy/nginx.conf" -g 'daemon off;'
wait_for nginx "$NGINX_PORT"

if [ -n "$PASSTHROUGH_BIN" ]; then
  free_port PASSTHROUGH_PORT
  start passthrough INT env LISTEN="127.0.0.1:$PASSTHROUGH_PORT" UPSTREAM="127.0.0.1:$UPSTREAM_PORT" "$PASSTHROUGH_BIN"
  wait_for passthrough "$PASSTHROUGH_PORT"
fi

# Access tokens live an hour, so that no token expires (and is refreshed) during the run.
start provider TERM node "$root/demo/provider.mjs" --port "$PROVIDER_PORT" --gateway "$tg_url" \
  --test-hooks --access-ttl 3600
wait_for provider "$PROVIDER_PORT"
start apache-provider TERM node "$root/demo/provider.mjs" --port "$APACHE_PROVIDER_PORT" \
  --gateway "$apache_url" --access-ttl 3600
wait_for apache-provider "$APACHE_PROVIDER_PORT"

render "$here/conf/tokengate.yaml" "$work/tokengate.yaml" "TOKENGATE_PORT=$TOKENGATE_PORT" \
  "PROVIDER_URL=$provider_url" "UPSTREAM_URL=$upstream" "SESSION_KEY=$("$tokengate" keygen)"
# No access log on any system (nginx: access_log off; Apache: no CustomLog).
start tokengate INT env RUST_LOG=warn "$tokengate" run --config "$work/tokengate.yaml"
wait_for tokengate "$TOKENGATE_PORT"

run_as=""
if [ "$(id -u)" -eq 0 ]; then
  run_as="User www-data\nGroup www-data"
fi
render "$here/conf/apache.conf" "$work/apache/httpd.conf" "DIR=$work" "APACHE_PORT=$APACHE_PORT" \
  "UPSTREAM_PORT=$UPSTREAM_PORT" "PROVIDER_URL=http://127.0.0.1:$APACHE_PROVIDER_PORT" \
  "PASSPHRASE=$("$tokengate" keygen)" "RUN_AS=$run_as"
start apache TERM apache2 -d "$work/apache" -f "$work/apache/httpd.conf" -DFOREGROUND
wait_for apache "$APACHE_PORT"

# --- sessions from real logins, and proof that each proxy forwards a token --------------------
say "logging in through tokengate and through Apache (scripted browser against the demo provider)"
hit_cookie="$(node "$here/sessions.mjs" tokengate "$tg_url" bench-hit)"
# One fresh session per run of row (c): the warm-up and each round.
fresh_users=()
for ((r = 0; r <= ROUNDS; r++)); do fresh_users+=("bench-fresh-$r"); done
mapfile -t fresh_cookies < <(node "$here/sessions.mjs" tokengate "$tg_url" "${fresh_users[@]}")
[ "${#fresh_cookies[@]}" -eq $((ROUNDS + 1)) ] || die "expected $((ROUNDS + 1)) fresh sessions"
apache_cookie="$(node "$here/sessions.mjs" generic "$apache_url" /api/orders/check bench-apache)"

expect_body "upstream" "$upstream/api/orders/check" "" '{"bearer":"no"}'
expect_body "nginx proxy" "$nginx_url/api/orders/check" "" '{"bearer":"no"}'
if [ -n "$PASSTHROUGH_BIN" ]; then
  expect_body "pingora passthrough" "http://127.0.0.1:$PASSTHROUGH_PORT/api/orders/check" "" '{"bearer":"no"}'
fi
expect_body "Apache with its session" "$apache_url/api/orders/check" "$apache_cookie" '{"bearer":"yes"}'
expect_status "Apache without a session" "$apache_url/api/orders/check" "" 302
expect_body "tokengate auth: none" "$tg_url/open/check" "" '{"bearer":"no"}'
expect_body "tokengate with its session" "$tg_url/api/orders/check" "$hit_cookie" '{"bearer":"yes"}'
expect_status "tokengate without a session" "$tg_url/api/orders/check" "" 401

# --- load: every system in alternation --------------------------------------------------------
write_meta >"$out/meta.md"
# name | URL | Cookie | session cookie name | count exchanges | server process
systems=(
  "nginx|$nginx_url/api/orders/x||||nginx"
  "apache|$apache_url/api/orders/x|$apache_cookie|mod_auth_openidc_session||apache"
  "tg-open|$tg_url/open/x||||tokengate"
  "tg-hit|$tg_url/api/orders/x|$hit_cookie|tokengate|count|tokengate"
  "tg-first|$tg_url/api/profile/x|FRESH|tokengate|count|tokengate"
  "upstream|$upstream/api/orders/x||||nginx-upstream"
)
if [ -n "$PASSTHROUGH_BIN" ]; then
  systems+=("passthrough|http://127.0.0.1:$PASSTHROUGH_PORT/api/orders/x||||passthrough")
fi
say "load: ${#systems[@]} systems × $ROUNDS rounds × $DURATION (+ $WARMUP warm-up each): about ${load_seconds} s"
for ((r = 0; r <= ROUNDS; r++)); do
  for entry in "${systems[@]}"; do
    IFS='|' read -r name url cookie cookie_name count server <<<"$entry"
    [ "$cookie" = FRESH ] && cookie="${fresh_cookies[r]}"
    if [ "$r" -eq 0 ]; then
      run_wrk "$url" "$cookie" "$cookie_name" "$WARMUP" >/dev/null
    else
      measure "$r" "$name" "$url" "$cookie" "$cookie_name" "$count" "$(pid_of "$server")" \
        >>"$out/results.jsonl"
    fi
  done
  [ "$r" -eq 0 ] || say "round $r of $ROUNDS done"
done
# Latency at a moderate load. Row (c) is left out: its session has exchanged by now, so it would
# measure the same path as (b).
if [ "$PACED_ROUNDS" -gt 0 ]; then
  say "latency at a moderate load: each connection waits ${PACE_MS} ms between requests"
  for ((r = 1; r <= PACED_ROUNDS; r++)); do
    for entry in "${systems[@]}"; do
      IFS='|' read -r name url cookie cookie_name _ _ <<<"$entry"
      [ "$name" = tg-first ] && continue
      measure_paced "$r" "$name" "$url" "$cookie" "$cookie_name" >>"$out/paced.jsonl"
    done
  done
fi
printf '{"nginx-upstream":%s,"nginx":%s,"apache":%s,"tokengate":%s}\n' \
  "$(peak_rss "$(pid_of nginx-upstream)")" "$(peak_rss "$(pid_of nginx)")" \
  "$(peak_rss "$(pid_of apache)")" "$(peak_rss "$(pid_of tokengate)")" >"$out/rss.json"
printf -- '- load average after the load runs: %s\n' "$(cut -d' ' -f1-3 /proc/loadavg)" >>"$out/meta.md"

if [ "$PROFILE" = 1 ]; then
  profile_hit_path "$tg_url/api/orders/x" "$hit_cookie" "$(pid_of tokengate)"
fi
for s in passthrough apache apache-provider tokengate provider nginx; do stop "$s"; done

# --- refresh storm ----------------------------------------------------------------------------
for variant in rotating non-rotating; do
  run_storm "$variant" >>"$out/storm.jsonl"
done

node "$here/report.mjs" "$out" | tee "$out/report.md"
say "raw results, logs and report: $out"
