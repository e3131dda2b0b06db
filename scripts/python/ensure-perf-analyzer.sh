#!/usr/bin/env bash
# Brings up (once) Triton's perf_analyzer, the load tool Triton and KServe users benchmark servers
# with, for the test that runs it against TensorFleet unmodified. Cached outside the checkout by
# version. Prints the path of a launcher (which sets the library path) as the last line of stdout;
# everything else goes to stderr. Linux x86_64 only, as the binary is.
#
# Where the parts come from (package registries only):
#   perf_analyzer        the tritonclient wheel's bin/ (2.45.0: the newest whose binary runs on
#                        glibc 2.36, Debian 12; later ones need glibc 2.38)
#   libcudart.so.12      the nvidia-cuda-runtime-cu12 wheel (the binary links it; no GPU is used)
#   libb64.so.0d         Debian's libb64-0d package (apt-get download; no install, no root)
#
# Settings (environment):
#   TENSORFLEET_CACHE_DIR   cache root (default ${XDG_CACHE_HOME:-$HOME/.cache}/tensorfleet)
#   TENSORFLEET_LIBB64      an existing libb64.so.0d to use where apt-get is not available
set -euo pipefail

PA_VERSION=2.45.0
CUDART_SPEC='nvidia-cuda-runtime-cu12==12.9.79'
KEY="tritonclient==${PA_VERSION} ${CUDART_SPEC} libb64-0d v1"

here="$(cd "$(dirname "$0")" && pwd)"
CACHE_DIR="${TENSORFLEET_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/tensorfleet}"
DIR="${CACHE_DIR}/perf-analyzer-${PA_VERSION}"
LAUNCHER="${DIR}/perf_analyzer"

log() { printf '[perf-analyzer] %s\n' "$*" >&2; }
fail() { log "$*"; exit 1; }

if [[ -x "$LAUNCHER" && -f "$DIR/complete" && "$(cat "$DIR/complete")" == "$KEY" ]]; then
  echo "$LAUNCHER"
  exit 0
fi
[[ "$(uname -s)-$(uname -m)" == "Linux-x86_64" ]] || fail "perf_analyzer's binary is for Linux x86_64 only (this is $(uname -s)-$(uname -m))"

python="$(bash "$here/ensure-python-env.sh" | tail -n 1)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
rm -rf "$DIR"
mkdir -p "$DIR/bin" "$DIR/lib"

log "downloading tritonclient ${PA_VERSION} and ${CUDART_SPEC}"
"$python" -m pip --disable-pip-version-check --no-input download --quiet --no-deps --only-binary=:all: \
  "tritonclient==${PA_VERSION}" "$CUDART_SPEC" -d "$work" >&2
# Members are picked out by name; the wheels are zip files (no unzip needed).
"$python" - "$work" "$DIR" <<'PY'
import glob, os, sys, zipfile
work, out = sys.argv[1], sys.argv[2]
wanted = {"/data/bin/perf_analyzer": "bin/perf_analyzer", "nvidia/cuda_runtime/lib/libcudart.so.12": "lib/libcudart.so.12"}
found = set()
for wheel in glob.glob(os.path.join(work, "*.whl")):
    with zipfile.ZipFile(wheel) as z:
        for member in z.namelist():
            for suffix, target in wanted.items():
                if member.endswith(suffix):
                    with z.open(member) as src, open(os.path.join(out, target), "wb") as dst:
                        dst.write(src.read())
                    os.chmod(os.path.join(out, target), 0o755)
                    found.add(target)
missing = set(wanted.values()) - found
if missing:
    sys.exit(f"not in the downloaded wheels: {sorted(missing)}")
PY

if [[ -n "${TENSORFLEET_LIBB64:-}" ]]; then
  cp "$TENSORFLEET_LIBB64" "$DIR/lib/libb64.so.0d"
elif command -v apt-get >/dev/null && command -v dpkg-deb >/dev/null; then
  log "downloading Debian's libb64-0d"
  (cd "$work" && apt-get download libb64-0d >&2 2>/dev/null) || fail "apt-get download libb64-0d failed; set TENSORFLEET_LIBB64 to a libb64.so.0d"
  dpkg-deb -x "$work"/libb64-0d_*.deb "$work/libb64"
  cp "$(find "$work/libb64" -name 'libb64.so.0d*' | head -n 1)" "$DIR/lib/libb64.so.0d"
else
  fail "perf_analyzer needs libb64.so.0d: without apt-get here, set TENSORFLEET_LIBB64 to its path (e.g. from your distribution's libb64 package)"
fi

cat >"$LAUNCHER" <<EOF
#!/bin/sh
LD_LIBRARY_PATH="$DIR/lib\${LD_LIBRARY_PATH:+:\$LD_LIBRARY_PATH}" exec "$DIR/bin/perf_analyzer" "\$@"
EOF
chmod +x "$LAUNCHER"
if LD_LIBRARY_PATH="$DIR/lib" ldd "$DIR/bin/perf_analyzer" | grep -q 'not found'; then
  fail "perf_analyzer still misses libraries: $(LD_LIBRARY_PATH="$DIR/lib" ldd "$DIR/bin/perf_analyzer" | grep 'not found' | tr -s ' \t' ' ')"
fi
echo "$KEY" >"$DIR/complete"
log "ready: $LAUNCHER"
echo "$LAUNCHER"
