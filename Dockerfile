# syntax=docker/dockerfile:1
# TensorFleet: one image for `tensorfleet serve` (the model server) and `tensorfleet operator`.
#
#   docker build -t tensorfleet/tensorfleet:0.1.0 .
#   docker run --rm -p 8500:8500 -p 8501:8501 -v "$PWD/models:/models:ro" tensorfleet/tensorfleet:0.1.0 \
#     serve --model_name=mnist --model_base_path=/models/mnist --model_store=/tmp/models
#
# The build stage brings up native TensorFlow the way `npm run setup` does everywhere (see
# docs/native-tensorflow.md): pip downloads the tensorflow-cpu wheel, the C library is extracted
# and the tfjs-node addon is compiled against it. The runtime stage has only Node and the result.

ARG NODE_IMAGE=node:24-bookworm
ARG NODE_RUNTIME_IMAGE=node:24-bookworm-slim

FROM ${NODE_IMAGE} AS build
# python3 + pip fetch and unpack the wheel; g++/make compile the addon (node-gyp finds Node's headers
# under /usr/local/include/node in the official image).
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 python3-pip g++ make \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# The cache `npm run setup` fills (wheel, libtensorflow, built addon): a known path, so the
# libraries the addon links can be copied out of it below.
ENV TENSORFLEET_CACHE_DIR=/opt/tensorfleet-cache
COPY package.json package-lock.json .npmrc ./
# .npmrc keeps dependency install scripts off (tfjs-node's would download from elsewhere).
RUN npm ci
COPY tsconfig.json tsconfig.build.json ./
COPY scripts/native-tf ./scripts/native-tf
COPY bin ./bin
COPY protos ./protos
COPY src ./src
RUN npm run setup && npm prune --omit=dev
# deps/lib holds symlinks into the cache (which stays in this stage): replace them with the two
# real libraries and relative links for the other names; drop the headers (compile time only).
RUN set -eu; lib=node_modules/@tensorflow/tfjs-node/deps/lib; \
    cc="$(readlink -f "$lib/libtensorflow_cc.so.2")"; fw="$(readlink -f "$lib/libtensorflow_framework.so.2")"; \
    rm -rf node_modules/@tensorflow/tfjs-node/deps/include "$lib"; mkdir -p "$lib"; \
    cp "$cc" "$lib/libtensorflow_cc.so.2"; cp "$fw" "$lib/libtensorflow_framework.so.2"; \
    for n in libtensorflow.so libtensorflow.so.2 libtensorflow.so.2.9.1; do ln -s libtensorflow_cc.so.2 "$lib/$n"; done; \
    ln -s libtensorflow_framework.so.2 "$lib/libtensorflow_framework.so"; \
    node -e "require('@tensorflow/tfjs-node')" 2>/dev/null; \
    find node_modules/@tensorflow/tfjs-node -xtype l -print -quit | grep -q . && { echo "dangling symlinks left in node_modules" >&2; exit 1; } || true

FROM ${NODE_RUNTIME_IMAGE} AS runtime
# Only what runs: Node (with libstdc++, all libtensorflow needs besides glibc), the compiled JS,
# the protos the gRPC services load, and production node_modules with native TensorFlow.
ENV NODE_ENV=production \
    TF_CPP_MIN_LOG_LEVEL=1
WORKDIR /app
COPY --from=build /src/package.json ./
COPY --from=build /src/bin ./bin
COPY --from=build /src/dist ./dist
COPY --from=build /src/protos ./protos
COPY --from=build /src/node_modules ./node_modules
# Non-root, and nothing to write but /tmp and the model store (both volumes in Kubernetes), so a
# read-only root filesystem works.
RUN mkdir -p /var/lib/tensorfleet/models && chown 10001:10001 /var/lib/tensorfleet/models
USER 10001:10001
EXPOSE 8500 8501 8080
# --max-semi-space-size: short young-generation GC pauses for the event loop (docs/decisions/0005);
# --heap-growing-percent: no back-to-back old-generation GCs under load (docs/decisions/0006).
ENTRYPOINT ["node", "--max-semi-space-size=8", "--heap-growing-percent=300", "bin/tensorfleet.js"]
CMD ["--help"]
