#!/usr/bin/env bash
# Builds (once) the peers the S3 sync benchmark compares against, cached outside the checkout:
# awscli in a venv of its own and s5cmd from the Go module proxy. Prints two lines:
# "aws=<path>" and "s5cmd=<path>" (a path is empty when that tool could not be installed).
set -uo pipefail
AWSCLI_VERSION=1.44.20
S5CMD_VERSION=v2.3.0
CACHE_DIR="${TENSORFLEET_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/tensorfleet}"
log() { printf '[s3-bench-tools] %s\n' "$*" >&2; }

AWS_VENV="${CACHE_DIR}/s3/awscli-${AWSCLI_VERSION}"
if [[ ! -x "$AWS_VENV/bin/aws" ]]; then
  log "installing awscli ${AWSCLI_VERSION} into ${AWS_VENV}"
  rm -rf "$AWS_VENV"
  if python3 -m venv "$AWS_VENV" >&2 && "$AWS_VENV/bin/python" -m pip --disable-pip-version-check --no-input install "awscli==${AWSCLI_VERSION}" >&2; then
    log "awscli ready"
  else
    log "awscli could not be installed"
    rm -rf "$AWS_VENV"
  fi
fi
S5_DIR="${CACHE_DIR}/s3/s5cmd-${S5CMD_VERSION}"
if [[ ! -x "$S5_DIR/bin/s5cmd" ]]; then
  log "building s5cmd ${S5CMD_VERSION} into ${S5_DIR}"
  # Built through a throwaway consumer module: `go install pkg@version` asks the proxy for the
  # module's version list (deprecation check), which the proxy here refuses for s5cmd.
  build_dir="$(mktemp -d)"
  if (cd "$build_dir" && go mod init s5cmd-build >/dev/null 2>&1 && go get "github.com/peak/s5cmd/v2@${S5CMD_VERSION}" >&2 \
      && mkdir -p "$S5_DIR/bin" && CGO_ENABLED=0 go build -o "$S5_DIR/bin/s5cmd" github.com/peak/s5cmd/v2 >&2); then
    log "s5cmd ready"
  else
    log "s5cmd could not be built"
  fi
  rm -rf "$build_dir"
fi
echo "aws=$([[ -x "$AWS_VENV/bin/aws" ]] && echo "$AWS_VENV/bin/aws")"
echo "s5cmd=$([[ -x "$S5_DIR/bin/s5cmd" ]] && echo "$S5_DIR/bin/s5cmd")"
