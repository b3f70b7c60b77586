# shellcheck shell=bash disable=SC2154  # the globals come from run.sh
# The measuring half of benches/load/run.sh, sourced by it: checks, wrk runs, peak memory, the
# perf profile and the refresh storm. Uses run.sh's globals (out, work, here, root, tokengate,
# CONNECTIONS, WRK_THREADS, DURATION, provider_url, STORM_SESSIONS) and its start/stop helpers.

# expect_body WHAT URL COOKIE BODY: the answer must be exactly BODY (one trailing newline).
expect_body() {
  local got
  got="$(curl -sS -m 10 ${3:+-H "Cookie: $3"} "$2")" || die "$1: $2 did not answer"
  [ "$got" = "$4" ] || die "$1: $2 answered ${got:0:300}, expected $4"
  say "checked: $1 → $4"
}

# expect_status WHAT URL COOKIE STATUS
expect_status() {
  local got
  got="$(curl -sS -m 10 -o /dev/null -w '%{http_code}' ${3:+-H "Cookie: $3"} "$2")" || die "$1: $2 did not answer"
  [ "$got" = "$4" ] || die "$1: $2 answered $got, expected $4"
  say "checked: $1 → $4"
}

# The machine and the software, for BENCHMARKS.md.
write_meta() {
  local cpu mem commit dirty=""
  cpu="$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)"
  mem="$(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)"
  commit="$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)"
  # Only what the binary is built from: this benchmark's own files may be work in progress.
  if git -C "$root" status --porcelain -- src Cargo.toml Cargo.lock 2>/dev/null | grep -q .; then
    dirty=" + uncommitted changes in src/"
  fi
  cat <<EOF
- date: $(date -u '+%Y-%m-%d %H:%M UTC')
- machine: $(nproc) CPUs ($cpu), $mem RAM, $(uname -sr)
- load average before the load runs: $(cut -d' ' -f1-3 /proc/loadavg)
- tokengate $commit$dirty ($([ "$BUILD" = 1 ] && echo "release build" || echo "release binary as found: --skip-build"), \`threads: 2\`); $(nginx -v 2>&1 | sed 's/^nginx version: //') (\`worker_processes 2\`); $(apache2 -v | sed -n 's/^Server version: //p') mpm_event + mod_auth_openidc $(dpkg-query -W -f '${Version}' libapache2-mod-auth-openidc 2>/dev/null || echo '?'); $(wrk -v 2>&1 | head -n1 | cut -d' ' -f1-2); Node $(node --version)
- load: \`wrk -t$WRK_THREADS -c$CONNECTIONS -d$DURATION\` per system and round, same Lua script for all (benches/load/wrk.lua)
- moderate load: \`wrk -t$WRK_THREADS -c$CONNECTIONS -d$PACED_DURATION\`, each connection waiting $PACE_MS ms between requests, $PACED_ROUNDS rounds
EOF
}

# run_wrk URL COOKIE COOKIE_NAME DURATION [PACE_MS]: prints wrk.lua's JSON result.
run_wrk() {
  local line
  line="$(wrk -t"$WRK_THREADS" -c"$CONNECTIONS" -d"$4" --timeout 5s -s "$here/wrk.lua" "$1" -- "$2" "$3" "${5:-0}" \
    | tee -a "$out/wrk.log" | grep '^WRKJSON ')" || die "wrk printed no result for $1"
  echo "${line#WRKJSON }"
}

# Refresh grants the tokengate provider has answered so far.
grants() {
  curl -sS -m 5 "$provider_url/__test/stats" | grep -o '"refresh_grants":[0-9]*' | cut -d: -f2
}

# cpu_ns PID: CPU time so far of the process and its children (all threads), in nanoseconds.
cpu_ns() {
  local total=0 p t ns
  for p in "$1" $(pgrep -P "$1" || true); do
    for t in /proc/"$p"/task/*; do
      ns="$(cut -d' ' -f1 "$t/schedstat" 2>/dev/null || echo 0)"
      total=$((total + ${ns:-0}))
    done
  done
  echo "$total"
}

# measure ROUND SYSTEM URL COOKIE COOKIE_NAME COUNT SERVER_PID: one JSON line for results.jsonl,
# with the server's CPU time per request (what the server costs, whoever wins the CPU race).
measure() {
  local result before after exchanges=null cpu0 cpu1 requests
  [ -n "$6" ] && before="$(grants)"
  cpu0="$(cpu_ns "$7")"
  result="$(run_wrk "$3" "$4" "$5" "$DURATION")"
  cpu1="$(cpu_ns "$7")"
  if [ -n "$6" ]; then
    after="$(grants)"
    exchanges=$((after - before))
  fi
  requests="$(grep -o '"requests":[0-9]*' <<<"$result" | cut -d: -f2)"
  printf '{"round":%d,"system":"%s","exchanges":%s,"cpu_us_per_request":%s,"wrk":%s}\n' "$1" "$2" \
    "$exchanges" "$(awk -v ns=$((cpu1 - cpu0)) -v n="${requests:-0}" 'BEGIN { printf "%.1f", n ? ns / 1000 / n : 0 }')" "$result"
}

# measure_paced ROUND SYSTEM URL COOKIE COOKIE_NAME: one JSON line for paced.jsonl, wrk at a
# moderate load (each connection waits PACE_MS between requests).
measure_paced() {
  printf '{"round":%d,"system":"%s","pace_ms":%d,"wrk":%s}\n' "$1" "$2" "$PACE_MS" \
    "$(run_wrk "$3" "$4" "$5" "$PACED_DURATION" "$PACE_MS")"
}

# peak_rss PID: VmHWM in KiB of the process and its children (nginx, Apache workers), summed.
peak_rss() {
  local total=0 p kb
  for p in "$1" $(pgrep -P "$1" || true); do
    kb="$(awk '/^VmHWM/ { print $2 }' "/proc/$p/status" 2>/dev/null || echo 0)"
    total=$((total + ${kb:-0}))
  done
  echo "$total"
}

# profile_hit_path URL COOKIE PID: perf samples of tokengate while wrk runs the cache-hit route.
profile_hit_path() {
  local seconds=$((${DURATION%s} - 2))
  [ "$seconds" -ge 3 ] || seconds=3
  say "profiling the cache-hit path: perf record on tokengate for ${seconds} s under wrk"
  run_wrk "$1" "$2" tokengate "$DURATION" >"$out/profile-wrk.json" &
  local wrk_pid=$!
  sleep 1
  # cpu-clock: a software event, so it works in VMs without a PMU; DWARF call graphs because a
  # release build has no frame pointers.
  perf record -q -e cpu-clock -F 499 --call-graph dwarf,16384 -p "$3" -o "$out/perf.data" \
    -- sleep "$seconds" 2>"$out/perf-record.log" || say "perf record failed (see $out/perf-record.log)"
  wait "$wrk_pid"
  perf report -i "$out/perf.data" --stdio --no-children --sort dso --percent-limit 0.5 -g none \
    >"$out/profile-dso.txt" 2>/dev/null || true
  perf report -i "$out/perf.data" --stdio --no-children --sort symbol --percent-limit 0.4 -g none \
    >"$out/profile-self.txt" 2>/dev/null || true
  perf report -i "$out/perf.data" --stdio --children --sort symbol --percent-limit 2 -g none \
    >"$out/profile-inclusive.txt" 2>/dev/null || true
  say "profile: $out/profile-{dso,self,inclusive}.txt"
}

# run_storm VARIANT: its own provider (token endpoint delayed 100 ms), echo upstream and gateway.
run_storm() {
  local variant="$1" pport eport gport rotation=()
  free_port pport
  free_port eport
  free_port gport
  [ "$variant" = non-rotating ] && rotation=(--no-rotation)
  start storm-provider TERM node "$root/demo/provider.mjs" --port "$pport" \
    --gateway "http://127.0.0.1:$gport" --test-hooks --latency-ms 100 --access-ttl 3600 "${rotation[@]}"
  wait_for storm-provider "$pport"
  start storm-echo TERM node "$root/demo/echo.mjs" --port "$eport" --name storm
  wait_for storm-echo "$eport"
  render "$here/conf/tokengate-storm.yaml" "$work/tokengate-storm.yaml" "TOKENGATE_PORT=$gport" \
    "PROVIDER_URL=http://127.0.0.1:$pport" "UPSTREAM_URL=http://127.0.0.1:$eport" \
    "SESSION_KEY=$("$tokengate" keygen)"
  start storm-tokengate INT env RUST_LOG=warn "$tokengate" run --config "$work/tokengate-storm.yaml"
  wait_for storm-tokengate "$gport"
  say "refresh storm ($variant): $STORM_SESSIONS sessions × 3 token sets at once"
  node "$here/storm.mjs" "$variant" "http://127.0.0.1:$gport" "http://127.0.0.1:$pport" "$STORM_SESSIONS" \
    || die "the $variant storm failed (logs: $out/storm-*.log)"
  for s in storm-tokengate storm-echo storm-provider; do stop "$s"; done
}
