#!/usr/bin/env bash
# Builds (once) bench/load-go, the native gRPC load generator of the benchmarks, into the cache
# outside the checkout, keyed by a hash of its Go sources, go.mod and go.sum; reuses a build whose
# key matches. Prints the binary's path on stdout; exits non-zero with the reason on stderr.
# Modules come from Go's module proxy (pinned by go.sum) the first time.
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
SRC="${REPO}/bench/load-go"
CACHE_DIR="${TENSORFLEET_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/tensorfleet}"
log() { printf '[grpc-load] %s\n' "$*" >&2; }
fail() { log "$*"; exit 1; }

command -v go >/dev/null 2>&1 || fail "go is not on PATH: install Go >= $(sed -n 's/^go //p' "${SRC}/go.mod") to build ${SRC}"
[[ -f "${SRC}/go.sum" ]] || fail "${SRC}/go.sum is missing"

# Sources only (tests do not change the binary); sorted so the key does not depend on ls order.
key="$(cd "$SRC" && find . -maxdepth 1 -name '*.go' ! -name '*_test.go' -print0 | sort -z \
  | xargs -0 cat go.mod go.sum | sha256sum | cut -c1-16)"
OUT_DIR="${CACHE_DIR}/bench/grpc-load-${key}"
BIN="${OUT_DIR}/grpc-load"
if [[ -x "$BIN" ]]; then
  echo "$BIN"
  exit 0
fi

log "building ${SRC} into ${OUT_DIR} ($(go version | cut -d' ' -f3))"
mkdir -p "$OUT_DIR"
tmp="$(mktemp "${OUT_DIR}/.grpc-load.XXXXXX")"
trap 'rm -f "$tmp"' EXIT
# -mod=readonly: go.sum pins every module; a missing entry is an error, never a silent upgrade.
if ! (cd "$SRC" && CGO_ENABLED=0 go build -mod=readonly -trimpath -o "$tmp" .) >&2; then
  fail "go build failed in ${SRC} (modules come from the Go module proxy on first use: check GOPROXY and the network)"
fi
mv "$tmp" "$BIN"
trap - EXIT
log "ready: ${BIN}"
echo "$BIN"
