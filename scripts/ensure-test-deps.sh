#!/usr/bin/env bash
# Brings up what the integration tests run against, each cached by version outside the checkout:
# a Python environment with TensorFlow and the official TF Serving client (exports, compat test),
# Triton's perf_analyzer (compat test),
# an S3-compatible server (S3 sync tests) and a Kubernetes control plane built from source
# (operator tests).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
bash "$here/python/ensure-python-env.sh" >/dev/null
if [ "${TENSORFLEET_SKIP_PERF_ANALYZER_TESTS:-}" != "1" ]; then
  bash "$here/python/ensure-perf-analyzer.sh" >/dev/null  # Triton's perf_analyzer, run against the server
fi
bash "$here/k8s/ensure-helm.sh" >/dev/null  # helm for the chart tests (built from source, cached)
bash "$here/s3/ensure-s3-server.sh" >/dev/null
if [ "${TENSORFLEET_SKIP_K8S_TESTS:-}" != "1" ]; then
  bash "$here/k8s/ensure-control-plane.sh" >/dev/null
fi
