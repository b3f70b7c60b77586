#!/usr/bin/env bash
# Pins every base image in the Dockerfile by digest: each `FROM name:tag` (or an already pinned
# `FROM name:tag@sha256:...`) becomes `FROM name:tag@sha256:<digest the tag points to now>`.
# The digest is the multi-platform index's, so amd64 and arm64 builds both stay possible.
# Run it where docker can reach the registries, review what changed (the new images' release
# notes and scanner reports), then commit. docs/supply-chain.md#base-images has the procedure.
#
#   scripts/pin-images.sh              # rewrite the Dockerfile in place
#   scripts/pin-images.sh --check      # only print each image's pinned and current digest
#
# RESOLVE overrides the command that prints a reference's digest (default: docker buildx
# imagetools inspect), e.g. RESOLVE='crane digest' or a skopeo wrapper.
set -euo pipefail
cd "$(dirname "$0")/.."
dockerfile=Dockerfile
check=0
[ "${1:-}" = --check ] && check=1

resolve() {
  if [ -n "${RESOLVE:-}" ]; then
    $RESOLVE "$1"
  else
    docker buildx imagetools inspect "$1" --format '{{.Manifest.Digest}}'
  fi
}

# The image references of the FROM lines, except stage names and `scratch`.
mapfile -t refs < <(awk 'toupper($1) == "FROM" && $2 != "scratch" { print $2 }' "$dockerfile")
stages="$(awk 'toupper($1) == "FROM" && toupper($3) == "AS" { print $4 }' "$dockerfile")"
for ref in "${refs[@]}"; do
  if grep -qxF "${ref%%@*}" <<<"$stages"; then continue; fi
  tagged="${ref%%@*}"
  digest="$(resolve "$tagged")" || { echo "pin-images: could not resolve $tagged" >&2; exit 1; }
  case "$digest" in
    sha256:????????????????????????????????????????????????????????????????) ;;
    *) echo "pin-images: no digest for $tagged (got '$digest')" >&2; exit 1 ;;
  esac
  if [ "$check" = 1 ]; then
    echo "$tagged: pinned ${ref#"$tagged"} current @$digest"
    continue
  fi
  # Replace the reference only where it is the image of a FROM line.
  sed -i -E "s#^(FROM[[:space:]]+)$(sed 's/[.[\*^$/]/\\&/g' <<<"$ref")([[:space:]]|\$)#\1${tagged}@${digest}\2#" "$dockerfile"
  echo "pin-images: $tagged -> $digest"
done
