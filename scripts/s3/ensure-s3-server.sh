#!/usr/bin/env bash
# Builds (once) and reuses the S3-compatible server the S3 integration tests and the S3 sync
# benchmark run against: versitygw, built from the Go module proxy into a cache outside the
# checkout, keyed by version. Prints the binary's path as the last line of stdout; everything
# else goes to stderr.
#
# Settings (environment):
#   TENSORFLEET_CACHE_DIR   cache root (default ${XDG_CACHE_HOME:-$HOME/.cache}/tensorfleet)
set -euo pipefail

VERSITYGW_VERSION=v1.8.0
CACHE_DIR="${TENSORFLEET_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/tensorfleet}"
DEST="${CACHE_DIR}/s3/versitygw-${VERSITYGW_VERSION}"
BIN="${DEST}/bin/versitygw"

log() { printf '[s3-server] %s\n' "$*" >&2; }

if [[ ! -x "$BIN" ]]; then
  command -v go >/dev/null 2>&1 || { log "go is not installed: it is needed to build versitygw ${VERSITYGW_VERSION}"; exit 1; }
  mkdir -p "$DEST"
  if command -v flock >/dev/null 2>&1; then
    exec 9>"${DEST}.lock"
    flock 9
  fi
  if [[ ! -x "$BIN" ]]; then
    log "building versitygw ${VERSITYGW_VERSION} into ${DEST} (a few minutes on a cold cache)"
    GOBIN="${DEST}/bin.tmp" CGO_ENABLED=0 go install "github.com/versity/versitygw/cmd/versitygw@${VERSITYGW_VERSION}" >&2
    mv "${DEST}/bin.tmp" "${DEST}/bin"
    log "ready"
  fi
fi
echo "$BIN"
