#!/usr/bin/env bash
# Prints the bin directory of a Node.js release line (e.g. `24`), installed from the npm registry's
# node-<os>-<arch> package (the official binaries) into the cache outside the checkout, once per
# line: later calls reuse it without the network. Used to run the tests on more than the machine's Node.
set -euo pipefail
line="${1:?usage: ensure-node.sh MAJOR (e.g. 24)}"
case "$(uname -s)-$(uname -m)" in
  Linux-x86_64) platform=linux-x64 ;;
  Linux-aarch64) platform=linux-arm64 ;;
  Darwin-arm64) platform=darwin-arm64 ;;
  Darwin-x86_64) platform=darwin-x64 ;;
  *) echo "ensure-node.sh: no Node package for $(uname -s)-$(uname -m)" >&2; exit 1 ;;
esac
cache="${TENSORFLEET_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/tensorfleet}/node/$platform-$line"
if [ ! -x "$cache/bin/node" ]; then
  work="$(mktemp -d)"
  trap 'rm -rf "$work"' EXIT
  (cd "$work" && npm pack --silent "node-$platform@$line" >/dev/null && tar xzf node-"$platform"-*.tgz)
  rm -rf "$cache" && mkdir -p "$(dirname "$cache")"
  mv "$work/package" "$cache"
fi
echo "$cache/bin"
