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
ours() {
  (docker images -aq --filter "label=$DIND_LABEL"
    docker images -aq --filter "label=$STAGE_LABEL") | sort -u
}
# Tags first, so that untagged parents become dangling and go with them;
# a few rounds for chains whose children share a parent.
for _ in 1 2 3; do
  tags=$( (docker images --filter "label=$DIND_LABEL" \
    --format '{{.Repository}}:{{.Tag}}'
    docker images --filter "label=$STAGE_LABEL" \
      --format '{{.Repository}}:{{.Tag}}') | { grep -v '<none>' || true; } | sort -u)
  [ -z "$tags" ] || docker rmi -f $tags >/dev/null 2>&1 || true
  docker image prune -f --filter "label=$DIND_LABEL" >/dev/null
  docker image prune -f --filter "label=$STAGE_LABEL" >/dev/null
  images=$(ours)
  [ -z "$images" ] && break
  docker rmi -f $images >/dev/null 2>&1 || true
done
left=$(ours)
[ -z "$left" ] || die "images still present: $(echo $left)"
log "removed every image and container labelled by the dind run"
