# The image a CI runner uses to start flow-sandbox inside a job container:
# Node 20, flow-sandbox on the PATH, SRT (an npm dependency, also on the
# PATH as `srt`) with what it needs (bubblewrap, socat, ripgrep), and the
# kernel engine's tools (nftables, iptables, iproute2, util-linux).
#
# Targets (the default is the last one, `runtime`):
#   runtime          the runner image
#   runtime-nobwrap  the same without bubblewrap: SRT cannot run there, so
#                    `--engine auto` picks the kernel engine
#   test             runtime plus the whole built checkout (dev dependencies,
#                    compiled tests, scripts), to run the integration suite
#                    inside a container
#
# Works with the legacy builder and BuildKit. RUN steps need the npm
# registry and a Debian mirror: use `docker build --network host` where the
# daemon has no default bridge.

ARG BASE_IMAGE=node:20-bookworm-slim

# Compiles everything (src, tests, scripts) with the dev dependencies.
FROM ${BASE_IMAGE} AS build
LABEL org.flow-sandbox.stage=build
WORKDIR /opt/flow-sandbox
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --loglevel=error
COPY . .
# The same build as `make build`: tsc, then the CLI bundle.
RUN npm run build --silent

# Production dependencies only: what the runner image ships.
FROM ${BASE_IMAGE} AS prod-deps
LABEL org.flow-sandbox.stage=prod-deps
WORKDIR /opt/flow-sandbox
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund --loglevel=error \
  && npm cache clean --force

# Debian packages first: the slowest layer, and it changes least often.
# procps: finding and ending helper processes (pgrep, ps) during teardown.
FROM ${BASE_IMAGE} AS app
LABEL org.flow-sandbox.stage=app
RUN apt-get update -qq \
  && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
    --no-install-recommends bubblewrap socat ripgrep nftables iptables \
    iproute2 util-linux git curl python3 procps ca-certificates >/dev/null \
  && rm -rf /var/lib/apt/lists/*
WORKDIR /opt/flow-sandbox
COPY --from=prod-deps /opt/flow-sandbox/node_modules ./node_modules
COPY --from=build /opt/flow-sandbox/package.json ./
COPY --from=build /opt/flow-sandbox/bin ./bin
COPY --from=build /opt/flow-sandbox/dist/src ./dist/src
COPY --from=build /opt/flow-sandbox/dist/bundle ./dist/bundle
RUN ln -s /opt/flow-sandbox/bin/flow-sandbox /usr/local/bin/flow-sandbox \
  && ln -s /opt/flow-sandbox/node_modules/.bin/srt /usr/local/bin/srt \
  && srt --version >/dev/null \
  && flow-sandbox --help >/dev/null
WORKDIR /
ENTRYPOINT []
CMD ["bash"]

# The whole checkout as built (sources, scripts the tests run, dev
# dependencies, dist/) over the runtime tree, at the same path, so tests
# find bin/, dist/ and scripts/ where they do in a checkout.
FROM app AS test
LABEL org.flow-sandbox.stage=test
COPY --from=build /opt/flow-sandbox /opt/flow-sandbox
WORKDIR /opt/flow-sandbox
# Whatever else the tests need, from the project's own list.
RUN bash scripts/install-deps.sh && rm -rf /var/lib/apt/lists/*

FROM app AS runtime-nobwrap
LABEL org.flow-sandbox.stage=runtime-nobwrap
RUN DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq bubblewrap \
    >/dev/null \
  && ! command -v bwrap

FROM app AS runtime
LABEL org.flow-sandbox.stage=runtime
