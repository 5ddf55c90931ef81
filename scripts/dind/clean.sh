#!/usr/bin/env bash
# `make integration-dind-clean`: removes what `make integration-dind` keeps
# on purpose: the locally built base image, the runner images and the build
# caches (every image labelled org.flow-sandbox.dind or .stage), and any
# container of ours a killed run left. A base image pulled from a registry
# carries no label and stays. Starts and stops dockerd if none is running.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$DIND_DIR/docker.sh"

command -v dockerd >/dev/null || { log "docker is not installed: nothing to clean"; exit 0; }
state=$(mktemp -d /tmp/fsbx-dind-clean.XXXXXX)
trap 'docker_down; rm -rf "$state"' EXIT
docker_up "$state"

containers=$(docker ps -aq --filter "label=$DIND_LABEL")
[ -z "$containers" ] || docker rm -f $containers >/dev/null
images=$( (docker images -aq --filter "label=$DIND_LABEL"
  docker images -aq --filter "label=$STAGE_LABEL") | sort -u)
if [ -n "$images" ]; then
  log "removing images: $(echo $images)"
  docker rmi -f $images >/dev/null 2>&1 || true
fi
left=$( (docker images -aq --filter "label=$DIND_LABEL"
  docker images -aq --filter "label=$STAGE_LABEL") | sort -u)
[ -z "$left" ] || die "images still present: $(echo $left)"
log "removed every image and container labelled by the dind run"
