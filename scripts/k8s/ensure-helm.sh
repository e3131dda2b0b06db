#!/usr/bin/env bash
# Builds helm from the Go module proxy into a cache outside the checkout, keyed by version, and
# prints the path of the binary. Idempotent: an existing binary is reused.
#
# Why from source: no release downloads on our machines; the Go module proxy is reachable.
# Usage: scripts/k8s/ensure-helm.sh          # prints the helm binary path on stdout
# Env:   TENSORFLEET_CACHE_DIR (default ${XDG_CACHE_HOME:-$HOME/.cache}/tensorfleet)
#        TENSORFLEET_HELM_VERSION (default v3.21.4)
set -euo pipefail

HELM_VERSION="${TENSORFLEET_HELM_VERSION:-v3.21.4}"
CACHE_ROOT="${TENSORFLEET_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/tensorfleet}"
BASE="$CACHE_ROOT/helm/$HELM_VERSION"
BIN="$BASE/bin/helm"

if [[ -x "$BIN" ]]; then
  echo "$BIN"
  exit 0
fi

command -v go >/dev/null || { echo "ensure-helm: go is required (helm is built from source)" >&2; exit 1; }
export GOCACHE="$BASE/go-build-cache"
export GOMODCACHE="$CACHE_ROOT/k8s/gomodcache"
export GOBIN="$BASE/bin.tmp"
export GOFLAGS="-trimpath -buildvcs=false"
export GOTOOLCHAIN=local
export CGO_ENABLED=0
mkdir -p "$GOCACHE" "$GOMODCACHE" "$GOBIN"
start=$(date +%s)
echo "ensure-helm: building helm $HELM_VERSION (a few minutes on a cold cache)" >&2
# helm's version package reports this in `helm version`; without it the default is used.
go install -ldflags "-s -w -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION" "helm.sh/helm/v3/cmd/helm@$HELM_VERSION" >&2
mkdir -p "$BASE/bin"
mv "$GOBIN/helm" "$BIN"
rm -rf "$GOBIN"
echo "ensure-helm: helm ready in $BIN ($(( $(date +%s) - start ))s)" >&2
echo "$BIN"
