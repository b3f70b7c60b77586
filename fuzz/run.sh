#!/usr/bin/env bash
# Runs the fuzz targets for a fixed time each, one after the other (the machine's cores are
# shared: each run is one libFuzzer process at low priority), and prints each target's executions
# and findings. Usage: fuzz/run.sh [SECONDS [TARGET...]]; default 600 s, every target.
# `fuzz/run.sh check` only builds the targets and runs each committed seed once (what CI does).
#
# cargo-fuzz needs `-Z` compiler flags; RUSTC_BOOTSTRAP=1 lets the stable toolchain accept them,
# so no nightly is needed. New corpus entries go to fuzz/corpus/<target> (not committed); the
# committed seeds are in fuzz/seeds/<target>. A crash is saved in fuzz/artifacts/<target>/ and
# this script exits non-zero; replay it with `cargo fuzz run <target> <file>`, then add the input
# as a regression test in tests/hostile/properties.rs.
set -euo pipefail
cd "$(dirname "$0")"
seconds="${1:-600}"
shift || true
export RUSTC_BOOTSTRAP=1
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
targets=("$@")
if [ "${#targets[@]}" -eq 0 ]; then
    mapfile -t targets < <(cargo fuzz list)
fi
# FUZZ_TARGET_DIR: where the instrumented build goes (default fuzz/target).
target_dir=(--target-dir "${FUZZ_TARGET_DIR:-target}")
if [ "$seconds" = "check" ]; then
    # CI: prove the targets build and their seeds run, in the dev profile without a sanitizer
    # (a release ASan build of pingora takes longer than the rest of CI together).
    target_dir+=(--dev --sanitizer none)
fi
cargo fuzz build "${target_dir[@]}"
if [ "$seconds" = "check" ]; then
    for target in "${targets[@]}"; do
        echo "== $target: committed seeds"
        log="$(mktemp)"
        if ! cargo fuzz run "${target_dir[@]}" "$target" "seeds/$target" -- -runs=0 >"$log" 2>&1; then
            cat "$log"
            exit 1
        fi
        grep -E "^Done" "$log" || true
        rm -f "$log"
    done
    exit 0
fi
status=0
for target in "${targets[@]}"; do
    mkdir -p "corpus/$target" "seeds/$target"
    log="$(mktemp)"
    echo "== $target: ${seconds}s"
    if nice -n 10 cargo fuzz run "${target_dir[@]}" "$target" "corpus/$target" "seeds/$target" -- \
        -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        >"$log" 2>&1; then
        result="no crash"
    else
        result="CRASH (see fuzz/artifacts/$target/)"
        status=1
        grep -E "panicked|ERROR|SUMMARY" "$log" | head -5 || true
    fi
    execs="$(grep -Eo 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -Eo '[0-9]+$' || echo '?')"
    echo "$target: $execs executions, corpus $(find "corpus/$target" -type f | wc -l) inputs, $result"
    rm -f "$log"
done
exit "$status"
