#!/usr/bin/env bash
# Builds a real Kubernetes control plane (kube-apiserver, kube-controller-manager, etcd) from
# the Go module proxy, cached outside the checkout and keyed by version. Idempotent: when the
# binaries for the pinned versions already exist it only prints the bin directory.
#
# Why from source: no container engine and no release downloads on our machines; the Go module
# proxy is reachable. k8s.io/kubernetes cannot be `go install`ed (its go.mod replaces the staging
# modules with local paths), so we build it through a consumer module that replaces every staging
# module with its published v0.X.Y tag. etcd's server module has replace directives as well and
# is built the same way.
#
# Usage: scripts/k8s/ensure-control-plane.sh        # prints the bin dir on stdout
# Env:   TENSORFLEET_CACHE_DIR  (default ${XDG_CACHE_HOME:-$HOME/.cache}/tensorfleet)
#        TENSORFLEET_K8S_VERSION (default v1.36.3), TENSORFLEET_ETCD_VERSION (default v3.6.16)
set -euo pipefail

K8S_VERSION="${TENSORFLEET_K8S_VERSION:-v1.36.3}"
ETCD_VERSION="${TENSORFLEET_ETCD_VERSION:-v3.6.16}"
CACHE_ROOT="${TENSORFLEET_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/tensorfleet}"
BASE="$CACHE_ROOT/k8s/$K8S_VERSION"
BIN="$BASE/bin"
ETCD_STAMP="$BIN/etcd.version"

log() { echo "ensure-control-plane: $*" >&2; }

have_all() {
  [[ -x "$BIN/kube-apiserver" && -x "$BIN/kube-controller-manager" && -x "$BIN/etcd" ]] &&
    [[ -f "$ETCD_STAMP" && "$(cat "$ETCD_STAMP")" == "$ETCD_VERSION" ]]
}

if have_all; then
  echo "$BIN"
  exit 0
fi

command -v go >/dev/null || { log "go is required (the control plane is built from source)"; exit 1; }

# Keep Go's caches next to the binaries so a rerun (or another checkout) is fast, and never let
# the go command fetch a different toolchain behind our back.
export GOCACHE="$BASE/go-build-cache"
export GOMODCACHE="$CACHE_ROOT/k8s/gomodcache"
export GOFLAGS="-trimpath -buildvcs=false -mod=mod"
export GOTOOLCHAIN=local
export CGO_ENABLED=0
mkdir -p "$BIN" "$GOCACHE" "$GOMODCACHE"

K8S_MINOR="${K8S_VERSION#v1.}"; K8S_MINOR="${K8S_MINOR%%.*}"
STAGING_VERSION="v0.${K8S_VERSION#v1.}"

build_etcd() {
  local src="$BASE/src-etcd"
  rm -rf "$src"; mkdir -p "$src"
  (
    cd "$src"
    go mod init tensorfleet.dev/etcd-build >/dev/null 2>&1
    log "resolving etcd $ETCD_VERSION"
    go get -tool "go.etcd.io/etcd/server/v3@$ETCD_VERSION" >&2
    log "building etcd"
    go build -ldflags "-s -w" -o "$BIN/etcd.tmp" go.etcd.io/etcd/server/v3
  )
  mv "$BIN/etcd.tmp" "$BIN/etcd"
  echo "$ETCD_VERSION" > "$ETCD_STAMP"
}

build_kubernetes() {
  local src="$BASE/src-kubernetes"
  rm -rf "$src"; mkdir -p "$src"
  log "downloading k8s.io/kubernetes $K8S_VERSION"
  local gomod
  gomod="$(cd "$src" && GOFLAGS=-mod=mod go mod download -json "k8s.io/kubernetes@$K8S_VERSION" |
    sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",*$/\1/p')"
  [[ -f "$gomod" ]] || { log "could not download k8s.io/kubernetes $K8S_VERSION"; exit 1; }
  # Every module kubernetes replaces with ./staging/src/... is published as v0.<minor>.<patch>.
  local staging
  staging="$(sed -n 's#^[[:space:]]*\(k8s.io/[A-Za-z0-9._/-]*\)[[:space:]]*=>[[:space:]]*\./staging/.*#\1#p' "$gomod" | sort -u)"
  [[ -n "$staging" ]] || { log "found no staging modules in $gomod"; exit 1; }
  {
    echo "module tensorfleet.dev/k8s-build"
    echo
    echo "go $(go env GOVERSION | sed 's/^go//; s/^\([0-9]*\.[0-9]*\).*/\1/')"
    echo
    echo "require k8s.io/kubernetes $K8S_VERSION"
    echo
    echo "tool ("
    echo "  k8s.io/kubernetes/cmd/kube-apiserver"
    echo "  k8s.io/kubernetes/cmd/kube-controller-manager"
    echo ")"
    echo
    echo "replace ("
    for m in $staging; do echo "  $m => $m $STAGING_VERSION"; done
    echo ")"
  } > "$src/go.mod"
  (
    cd "$src"
    log "resolving kubernetes dependencies ($(echo "$staging" | wc -l) staging modules at $STAGING_VERSION)"
    go mod tidy >&2
    local pkg=k8s.io/component-base/version
    local ldflags="-s -w -X $pkg.gitVersion=$K8S_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$K8S_MINOR"
    ldflags+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
    for cmd in kube-apiserver kube-controller-manager; do
      log "building $cmd $K8S_VERSION (slow on a cold cache)"
      go build -ldflags "$ldflags" -o "$BIN/$cmd.tmp" "k8s.io/kubernetes/cmd/$cmd"
      mv "$BIN/$cmd.tmp" "$BIN/$cmd"
    done
  )
}

start=$(date +%s)
if [[ ! -x "$BIN/etcd" || ! -f "$ETCD_STAMP" || "$(cat "$ETCD_STAMP" 2>/dev/null)" != "$ETCD_VERSION" ]]; then
  build_etcd
fi
if [[ ! -x "$BIN/kube-apiserver" || ! -x "$BIN/kube-controller-manager" ]]; then
  build_kubernetes
fi
have_all || { log "build finished but binaries are missing in $BIN"; exit 1; }
log "control plane ready in $BIN ($(( $(date +%s) - start ))s)"
echo "$BIN"
