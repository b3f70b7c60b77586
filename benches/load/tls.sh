#!/usr/bin/env bash
# HTTP/2 over TLS: tokengate's TLS listener against nginx with HTTP/2 over TLS in front of the
# same upstream, on 127.0.0.1, with h2load (apt nghttp2-client). BENCHMARKS.md, "HTTP/2 over
# TLS", reports the figures.
#
#   benches/load/tls.sh [--binary PATH] [--rounds 3] [--requests 20000] [--hs-seconds 10]
#
# 1. Throughput: per round, nginx then tokengate's cache-hit route (a session from a real login
#    through the demo provider), `h2load -n REQUESTS -c 8 -m 10` (8 connections, 10 streams
#    each): requests/s and the server's CPU time per request. Medians over the rounds.
# 2. Handshakes beside cached requests: 4 HTTP/2 connections send cached requests at a fixed
#    pace (100 requests/s each, --hs-seconds long, latency of every request logged); the p99 of
#    those, alone and while another h2load opens 200 new TLS connections per second (one
#    request each). The same for nginx.
#
# The binary defaults to target/profiling/tokengate (`cargo build --profile profiling --bin
# tokengate`); this script never builds. Load is bounded by -n and -D. A private CA and the
# server certificate are made with openssl; the login trusts that CA (NODE_EXTRA_CA_CERTS) and
# curl checks with it. h2load does not verify certificates (it has no option to).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
tokengate="$root/target/profiling/tokengate"
ROUNDS=3
REQUESTS=20000
HS_SECONDS=10

say() { printf 'bench-tls: %s\n' "$*" >&2; }
die() { printf 'bench-tls: %s\n' "$*" >&2; exit 1; }

while [ $# -gt 0 ]; do
  case "$1" in
    --binary) tokengate="${2:-}"; shift $(($# > 1 ? 2 : 1)) ;;
    --rounds) ROUNDS="${2:-}"; shift $(($# > 1 ? 2 : 1)) ;;
    --requests) REQUESTS="${2:-}"; shift $(($# > 1 ? 2 : 1)) ;;
    --hs-seconds) HS_SECONDS="${2:-}"; shift $(($# > 1 ? 2 : 1)) ;;
    -h | --help) sed -n '2,20p' "$0"; exit 0 ;;
    *) die "unknown argument $1 (see --help)" ;;
  esac
done
[[ "$ROUNDS" =~ ^[1-9]$ ]] || die "--rounds must be 1..9"
[[ "$REQUESTS" =~ ^[1-9][0-9]{2,5}$ ]] || die "--requests must be 100..999999"
[[ "$HS_SECONDS" =~ ^[1-9][0-9]?$ ]] || die "--hs-seconds must be 1..99"
[ -x "$tokengate" ] || die "no $tokengate: cargo build --profile profiling --bin tokengate, or --binary"
for tool in nginx h2load openssl curl node; do
  command -v "$tool" >/dev/null || die "$tool is missing (h2load: apt-get install nghttp2-client)"
done
[ -d "$root/demo/node_modules" ] || die "run npm ci in demo/ first (the login uses the demo provider)"

# --- children: remembered and stopped (by PID) on exit ------------------------------------------
pids=()
cleanup() {
  trap - EXIT INT TERM
  local p
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  [ -n "${work:-}" ] && rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

work="$(mktemp -d "${TMPDIR:-/tmp}/tokengate-bench-tls.XXXXXX")"
chmod 755 "$work"
out="$root/target/bench-load/tls-$(date +%Y%m%d-%H%M%S)"
mkdir -p "$out" "$work/tls" "$work/nginx-upstream" "$work/nginx-tls"

start() { # NAME COMMAND...: background, output in $out/NAME.log
  local name="$1"
  shift
  "$@" >>"$out/$name.log" 2>&1 &
  pids+=("$!")
}
port_answers() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
wait_for() { # PORT
  local tries=0
  until port_answers "$1"; do
    tries=$((tries + 1))
    [ "$tries" -le 150 ] || die "nothing listens on $1 after 30 s (logs in $out)"
    sleep 0.2
  done
}
used_ports=" "
free_port() { # VAR: a free port below the ephemeral range
  local port
  while :; do
    port=$((20000 + RANDOM % 10000))
    case "$used_ports" in *" $port "*) continue ;; esac
    [ -z "$(ss -Htan "( sport = :$port )")" ] || continue
    used_ports+="$port "
    printf -v "$1" '%s' "$port"
    return
  done
}
render() { # TEMPLATE OUTPUT KEY=VALUE...
  local template="$1" output="$2" expr=() kv
  shift 2
  for kv in "$@"; do expr+=(-e "s|@${kv%%=*}@|${kv#*=}|g"); done
  sed "${expr[@]}" "$template" >"$output"
  ! grep -q '@[A-Z_]*@' "$output" || die "unrendered placeholder in $output"
}
cpu_ns() { # PID: CPU time of the process and its children (all threads), in nanoseconds
  local total=0 p t ns
  for p in "$1" $(pgrep -P "$1" || true); do
    for t in /proc/"$p"/task/*; do
      ns="$(cut -d' ' -f1 "$t/schedstat" 2>/dev/null || echo 0)"
      total=$((total + ${ns:-0}))
    done
  done
  echo "$total"
}

# --- certificates: a private CA and a server certificate for localhost --------------------------
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=bench-ca \
  -keyout "$work/tls/ca.key" -out "$work/tls/ca.crt" 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=localhost \
  -keyout "$work/tls/server.key" -out "$work/tls/server.csr" 2>/dev/null
printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\n' >"$work/tls/ext.cnf"
openssl x509 -req -in "$work/tls/server.csr" -CA "$work/tls/ca.crt" -CAkey "$work/tls/ca.key" \
  -CAcreateserial -days 2 -extfile "$work/tls/ext.cnf" -out "$work/tls/server.crt" 2>/dev/null

# --- servers ------------------------------------------------------------------------------------
free_port UPSTREAM_PORT
free_port NGINX_PORT
free_port TOKENGATE_PORT
free_port PROVIDER_PORT
render "$here/conf/nginx-upstream.conf" "$work/nginx-upstream/nginx.conf" "DIR=$work" "UPSTREAM_PORT=$UPSTREAM_PORT"
start nginx-upstream nginx -p "$work/nginx-upstream" -c "$work/nginx-upstream/nginx.conf" -g 'daemon off;'
wait_for "$UPSTREAM_PORT"
render "$here/conf/nginx-proxy-tls.conf" "$work/nginx-tls/nginx.conf" "DIR=$work" \
  "UPSTREAM_PORT=$UPSTREAM_PORT" "NGINX_PORT=$NGINX_PORT"
start nginx-tls nginx -p "$work/nginx-tls" -c "$work/nginx-tls/nginx.conf" -g 'daemon off;'
nginx_pid="${pids[-1]}"
wait_for "$NGINX_PORT"
tg_url="https://localhost:$TOKENGATE_PORT"
start provider node "$root/demo/provider.mjs" --port "$PROVIDER_PORT" --gateway "$tg_url" --access-ttl 3600
wait_for "$PROVIDER_PORT"
render "$here/conf/tokengate-tls.yaml" "$work/tokengate.yaml" "DIR=$work" \
  "TOKENGATE_PORT=$TOKENGATE_PORT" "PROVIDER_URL=http://127.0.0.1:$PROVIDER_PORT" \
  "UPSTREAM_URL=http://127.0.0.1:$UPSTREAM_PORT" "SESSION_KEY=$("$tokengate" keygen)"
start tokengate env RUST_LOG=warn "$tokengate" run --config "$work/tokengate.yaml"
tg_pid="${pids[-1]}"
wait_for "$TOKENGATE_PORT"

say "logging in through tokengate over TLS (scripted browser, trusting the bench CA)"
cookie="$(NODE_EXTRA_CA_CERTS="$work/tls/ca.crt" node "$here/sessions.mjs" tokengate "$tg_url" bench-tls)"
check="$(curl -sS -m 10 --cacert "$work/tls/ca.crt" --http2 -H "Cookie: $cookie" "$tg_url/api/orders/check")"
[ "$check" = '{"bearer":"yes"}' ] || die "tokengate did not forward a Bearer token: $check"
check="$(curl -sS -m 10 --cacert "$work/tls/ca.crt" --http2 "https://localhost:$NGINX_PORT/api/orders/check")"
[ "$check" = '{"bearer":"no"}' ] || die "nginx answered $check"
say "checked: both answer over HTTP/2 with the bench CA; tokengate forwards a Bearer token"

# --- 1. throughput --------------------------------------------------------------------------
h2run() { # NAME PID URL [COOKIE]: one JSON line
  local name="$1" pid="$2" url="$3" c0 c1 text rps done ok
  c0="$(cpu_ns "$pid")"
  text="$(h2load -n "$REQUESTS" -c 8 -m 10 -t 1 ${4:+-H "cookie: $4"} "$url" 2>&1)"
  c1="$(cpu_ns "$pid")"
  printf '%s\n' "$text" >>"$out/h2load.log"
  rps="$(sed -n 's/^finished in [^,]*, \([0-9.]*\) req\/s.*/\1/p' <<<"$text")"
  done="$(sed -n 's/^requests: .* \([0-9]*\) succeeded.*/\1/p' <<<"$text")"
  ok="$(sed -n 's/^status codes: \([0-9]*\) 2xx.*/\1/p' <<<"$text")"
  [ "$ok" = "$REQUESTS" ] || die "$name: $ok of $REQUESTS answered 2xx (see $out/h2load.log)"
  awk -v n="$name" -v r="$rps" -v d="$done" -v c=$((c1 - c0)) \
    'BEGIN { printf "{\"system\":\"%s\",\"rps\":%s,\"cpu_us_per_request\":%.1f}\n", n, r, c / d / 1000 }'
}
say "throughput: $ROUNDS rounds × (nginx, tokengate) × h2load -n $REQUESTS -c 8 -m 10"
h2load -n 1000 -c 8 -m 10 -t 1 "https://localhost:$NGINX_PORT/api/orders/x" >/dev/null
h2load -n 1000 -c 8 -m 10 -t 1 -H "cookie: $cookie" "$tg_url/api/orders/x" >/dev/null
for ((r = 1; r <= ROUNDS; r++)); do
  h2run nginx "$nginx_pid" "https://localhost:$NGINX_PORT/api/orders/x" | tee -a "$out/results.jsonl"
  h2run tokengate "$tg_pid" "$tg_url/api/orders/x" "$cookie" | tee -a "$out/results.jsonl"
done

# --- 2. handshakes beside cached requests ----------------------------------------------------
p99_ms() { # LOGFILE...: p99 of h2load's per-request log (3rd column: microseconds)
  cat "$@" | awk '{ print $3 }' | sort -n | awk '{ v[NR] = $1 } END {
    i = int(NR * 0.99); if (i < 1) i = 1; printf "%.2f", v[i] / 1000 }'
}
paced() { # URL COOKIE LOG
  h2load -c 4 -m 1 -t 1 --rps 100 -D "$HS_SECONDS" ${2:+-H "cookie: $2"} --log-file "$3" "$1" >/dev/null 2>&1
}
handshakes() { # URL: 200 new TLS connections per second for HS_SECONDS, one request each
  local n=$((200 * HS_SECONDS))
  h2load -c "$n" -n "$n" -m 1 -t 1 -r 20 --rate-period 100ms "$1" >>"$out/handshakes.log" 2>&1
}
say "handshakes beside cached requests: 4 × 100 req/s for ${HS_SECONDS}s, alone and with 200 handshakes/s"
for sys in nginx tokengate; do
  if [ "$sys" = nginx ]; then url="https://localhost:$NGINX_PORT"; c=""; else url="$tg_url"; c="$cookie"; fi
  paced "$url/api/orders/x" "$c" "$work/$sys-alone.log"
  handshakes "$url/open/x" &
  hs=$!
  paced "$url/api/orders/x" "$c" "$work/$sys-busy.log"
  wait "$hs" || die "the handshake load failed (see $out/handshakes.log)"
  printf '{"system":"%s","p99_ms_alone":%s,"p99_ms_with_handshakes":%s,"requests":%d}\n' "$sys" \
    "$(p99_ms "$work/$sys-alone.log")" "$(p99_ms "$work/$sys-busy.log")" \
    "$(cat "$work/$sys-busy.log" | wc -l)" | tee -a "$out/results.jsonl"
done
grep -c '^' "$out/handshakes.log" >/dev/null
say "results in $out/results.jsonl"
