#!/usr/bin/env bash
# Writes tokengate's software bill of materials: a CycloneDX 1.5 JSON document listing every
# crate the Linux binary is built from (name, version, crates.io purl, SHA-256 of the crate
# archive from Cargo.lock, declared license, and the dependency graph). Dev-dependencies (tests,
# benches) are not in it; build-time dependencies (build scripts, proc-macros) are.
# docs/supply-chain.md#sbom says what to do with it.
#
#   scripts/sbom.sh [OUT]      # default: target/sbom/tokengate.cdx.json
#
# It installs cargo-cyclonedx from crates.io (pinned, --locked) when missing, and says so: about
# 400 CPU-seconds (3-4 minutes on 2 idle cores), once. The document is reproducible: its
# timestamp is the last commit's (SOURCE_DATE_EPOCH), so one commit gives the same bytes.
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-target/sbom/tokengate.cdx.json}"
version=0.5.9

if ! cargo cyclonedx --version 2>/dev/null | grep -qF "$version"; then
  echo "sbom: installing cargo-cyclonedx $version (cargo install --locked)"
  cargo install cargo-cyclonedx --version "$version" --locked
fi

export SOURCE_DATE_EPOCH="${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || date +%s)}"
# cargo-cyclonedx writes next to Cargo.toml; the name is fixed here and the file moved out.
cargo cyclonedx --format json --spec-version 1.5 --target x86_64-unknown-linux-gnu \
  --override-filename tokengate.cdx -q
mkdir -p "$(dirname "$out")"
mv tokengate.cdx.json "$out"
echo "sbom: $out ($(grep -c '"bom-ref"' "$out") entries)"
