#!/usr/bin/env bash
# Creates (once) and reuses the Python environment that exports the test fixture SavedModels and
# runs the official client checks (TF Serving's gRPC client; Triton's HTTP client for /v2). Cached outside the checkout, keyed by versions, so a
# fresh clone on the same machine reuses it in a second. Prints the venv's python path as the last
# line of stdout; everything else goes to stderr.
#
# Settings (environment):
#   TENSORFLEET_CACHE_DIR   cache root (default ${XDG_CACHE_HOME:-$HOME/.cache}/tensorfleet)
#   TENSORFLEET_PYTHON      interpreter that creates the venv (default python3)
set -euo pipefail

TF_VERSION=2.21.0
TFS_API_VERSION=2.21.0
# tensorflow-serving-api is installed with --no-deps: its declared dependency is the full
# `tensorflow` package, which would pull a second copy of TensorFlow next to tensorflow-cpu.
# Its real run-time needs are grpcio and protobuf (protobuf comes with tensorflow-cpu).
GRPCIO_SPEC='grpcio>=1.60,<2'
ENV_KEY="tensorflow-cpu==${TF_VERSION} tensorflow-serving-api==${TFS_API_VERSION} ${GRPCIO_SPEC} v1"
# Triton's HTTP and gRPC clients, for the Open Inference Protocol checks; added to an existing environment
# under a marker of its own, so adding it did not rebuild TensorFlow's.
V2_CLIENT_SPEC='tritonclient[http,grpc]==2.73.0'

CACHE_DIR="${TENSORFLEET_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/tensorfleet}"
VENV="${CACHE_DIR}/python-tf-${TF_VERSION}"
WHEELS="${CACHE_DIR}/wheels"
MARKER="${VENV}/.tensorfleet-env"
V2_MARKER="${VENV}/.tensorfleet-v2-client"
BASE_PYTHON="${TENSORFLEET_PYTHON:-python3}"

log() { printf '[python-env] %s\n' "$*" >&2; }

base_ready() {
  [[ -f "$MARKER" && -x "$VENV/bin/python" ]] && [[ "$(cat "$MARKER")" == "$ENV_KEY" ]]
}

v2_client_ready() {
  [[ -f "$V2_MARKER" ]] && [[ "$(cat "$V2_MARKER")" == "$V2_CLIENT_SPEC" ]]
}

is_ready() {
  base_ready && v2_client_ready
}

build() {
  log "creating ${VENV} (${ENV_KEY})"
  rm -rf "$VENV"
  mkdir -p "$CACHE_DIR" "$WHEELS"
  if ! "$BASE_PYTHON" -m venv "$VENV" >&2; then
    rm -rf "$VENV"
    log "'$BASE_PYTHON -m venv' failed: on Debian/Ubuntu install the python3-venv package; or set TENSORFLEET_PYTHON"
    exit 1
  fi
  local pip=("$VENV/bin/python" -m pip --disable-pip-version-check --no-input)
  # The tensorflow-cpu wheel (about 270 MB) is usually already in the cache (the native
  # TensorFlow setup keeps it there); --find-links lets pip take it from there instead of
  # downloading it again. When it is missing, pip fetches a wheel matching this interpreter.
  # pip does not prefer a --find-links file over an equal index candidate, so a cached wheel
  # that fits this interpreter is named directly.
  local pytag tf_req="tensorflow-cpu==${TF_VERSION}" cached
  pytag="$("$VENV/bin/python" -c 'import sys; print(f"cp{sys.version_info[0]}{sys.version_info[1]}")')"
  for cached in "$WHEELS"/tensorflow_cpu-"${TF_VERSION}"-"${pytag}"-"${pytag}"-*.whl; do
    [[ -f "$cached" ]] && tf_req="$cached" && break
  done
  log "installing ${tf_req} and grpcio (a few minutes on a cold cache)"
  "${pip[@]}" install --find-links "$WHEELS" "$tf_req" "$GRPCIO_SPEC" >&2
  log "installing tensorflow-serving-api ${TFS_API_VERSION} without its dependencies"
  "${pip[@]}" install --no-deps "tensorflow-serving-api==${TFS_API_VERSION}" >&2
  # Prove the pieces import together before declaring the environment ready.
  TF_CPP_MIN_LOG_LEVEL=3 "$VENV/bin/python" -c '
import grpc, tensorflow as tf
from tensorflow_serving.apis import prediction_service_pb2_grpc, predict_pb2, model_service_pb2_grpc
print("tensorflow", tf.__version__, "grpcio", grpc.__version__)
' >&2
  printf '%s' "$ENV_KEY" >"$MARKER"
  rm -f "$V2_MARKER"
  log "ready"
}

add_v2_client() {
  log "installing ${V2_CLIENT_SPEC}"
  "$VENV/bin/python" -m pip --disable-pip-version-check --no-input install "$V2_CLIENT_SPEC" >&2
  "$VENV/bin/python" -c 'import tritonclient.http, tritonclient.grpc, tritonclient.utils' >&2
  printf '%s' "$V2_CLIENT_SPEC" >"$V2_MARKER"
}

if ! is_ready; then
  mkdir -p "$CACHE_DIR"
  # Two concurrent callers (e.g. CI steps) must not build the same venv at once.
  if command -v flock >/dev/null 2>&1; then
    exec 9>"${CACHE_DIR}/.python-env.lock"
    flock 9
  fi
  base_ready || build
  v2_client_ready || add_v2_client
fi

echo "$VENV/bin/python"
