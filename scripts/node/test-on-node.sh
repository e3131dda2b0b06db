#!/usr/bin/env bash
# Runs tests (vitest arguments, default: all) on another Node.js release line, e.g.
#   npm run test:node -- 24 test/unit test/integration/server
# The checkout's node_modules serve both: the tfjs-node addon uses Node-API, which every line since
# 20 runs unchanged, and the servers the tests start run on the same Node as vitest (process.execPath).
set -euo pipefail
line="${1:?usage: test-on-node.sh MAJOR [vitest args...]}"
shift
bin="$(bash "$(dirname "$0")/ensure-node.sh" "$line")"
export PATH="$bin:$PATH"
echo "[test-on-node] $(node --version) from $bin"
npm run setup
npx vitest run "$@"
