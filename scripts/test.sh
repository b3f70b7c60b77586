#!/usr/bin/env bash
# The whole test suite, as the README gives it and as CI runs it: installs what is missing, then
# lints, checks the dependency tree against deny.toml, and runs every test (unit, property,
# end-to-end against the real gateway binary, the real OpenID provider and a real browser).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh

echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo clippy"
cargo clippy --all-targets --locked -- -D warnings
echo "== cargo deny check licenses bans sources (deny.toml; advisories: docs/supply-chain.md)"
cargo deny --locked check licenses bans sources
echo "== cargo test"
cargo test --locked -- --test-threads="${TEST_THREADS:-2}"
echo "== fuzz targets: build (cargo-fuzz on stable) and replay the committed seeds"
fuzz/run.sh check
echo "== end-to-end tests against the real OpenID provider and headless Chromium (node --test e2e/)"
cargo build --locked --bin tokengate
node --test --test-concurrency=1 e2e/
