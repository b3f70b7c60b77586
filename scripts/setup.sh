#!/usr/bin/env bash
# Installs what building and testing tokengate needs on a fresh Debian machine, and says what it
# installs. Safe to run again: it installs only what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

apt_packages=()
command -v cmake >/dev/null 2>&1 || apt_packages+=(cmake)            # pingora-core builds libz-ng with it
command -v redis-server >/dev/null 2>&1 || apt_packages+=(redis-server) # the redis store's tests
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || apt_packages+=(nginx) # the Ingress buffer test
command -v curl >/dev/null 2>&1 || apt_packages+=(curl)               # its HTTP/2 requests
if [ "${TOKENGATE_SKIP_BROWSER:-0}" != 1 ]; then
  command -v chromium >/dev/null 2>&1 || apt_packages+=(chromium)     # the real-browser login test
fi
if [ ${#apt_packages[@]} -gt 0 ]; then
  echo "setup: installing with apt-get: ${apt_packages[*]}"
  if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${apt_packages[@]}" >/dev/null
fi

# The Kubernetes manifests' tests (tests/ops/deploy.rs): kubectl renders the kustomizations
# (the machine image ships it; Debian's kubernetes-client is too old for kustomize components),
# and kubernetes-validate checks them against the Kubernetes schemas it bundles.
if ! command -v kubectl >/dev/null 2>&1; then
  echo "setup: kubectl (with its built-in kustomize, v5 or newer) is needed for the deploy/ tests; install it first" >&2
  exit 1
fi
if ! command -v kubernetes-validate >/dev/null 2>&1; then
  echo "setup: installing kubernetes-validate (the Kubernetes schemas) with pip"
  python3 -m pip install --quiet --disable-pip-version-check kubernetes-validate
fi

# cargo-deny checks the dependency tree against deny.toml (licenses, bans, sources) in
# scripts/test.sh. Pinned, so that every machine judges the tree by the same rules. Built from
# crates.io once per machine: 505 CPU-seconds, about 4-5 minutes on 2 idle cores.
deny_version=0.20.2
if ! cargo deny --version 2>/dev/null | grep -qF " $deny_version"; then
  echo "setup: installing cargo-deny $deny_version from crates.io (cargo install --locked)"
  cargo install cargo-deny --version "$deny_version" --locked --quiet
fi

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "setup: node and npm are needed for the demo's OpenID provider (Node 20 or newer); install them first" >&2
  exit 1
fi
if [ ! -d demo/node_modules ] || [ demo/package-lock.json -nt demo/node_modules ]; then
  echo "setup: installing the demo's npm packages (oidc-provider, playwright-core) with npm ci"
  (cd demo && npm ci --no-audit --no-fund --loglevel=error)
fi
