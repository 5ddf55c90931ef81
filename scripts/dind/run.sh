#!/usr/bin/env bash
# `make integration-dind`: flow-sandbox inside job containers started the
# way runners start them. Installs and starts Docker when needed, builds the
# base image locally when no registry answers, builds the runner images,
# runs the cases, prints a table of verdicts and proves nothing was left.
#
# Environment: FSBX_DIND_STRICT=1 fails on SKIP too; FSBX_DIND_SUITE_TIMEOUT
# (seconds, default 900) bounds case 1; FSBX_DIND_HOST_COMPARE=0 skips the
# host run of the suite; FSBX_DIND_PROFILES (default "runner"; add
# "unmasked" for systempaths=unconfined) picks the privileged profiles;
# FSBX_DIND_KEEP_DAEMON=1 leaves a dockerd this run started running (for
# repeated runs while developing).
set -Eeuo pipefail
. "$(dirname "$0")/lib.sh"
trap 'log "unexpected failure (status $?) at ${BASH_SOURCE[0]}:$LINENO: $BASH_COMMAND"' ERR
. "$DIND_DIR/docker.sh"
. "$DIND_DIR/build.sh"
. "$DIND_DIR/cases.sh"
. "$DIND_DIR/leaks.sh"
. "$DIND_DIR/host-suite.sh"

[ "$(id -u)" -eq 0 ] || die "run as root: it starts dockerd and privileged containers"

RUN_ID=$(od -An -N4 -tx1 /dev/urandom | tr -d ' \n')
LOG_DIR=/tmp/fsbx-dind-$RUN_ID
RESULTS=$LOG_DIR/results
mkdir -p "$LOG_DIR"
: >"$RESULTS"
declare -a TIMINGS=()
started=$(now)

phase() {
  TIMINGS+=("$(printf '%-28s %4ss' "$1" "$(($(now) - $2))")")
}

# On any exit: our containers and the layers of a failed build go, and a
# daemon we started stops.
on_exit() {
  stop_host_suite
  local ids
  ids=$(docker ps -aq --filter "label=$DIND_RUN_LABEL=$RUN_ID" 2>/dev/null ||
    true)
  [ -z "$ids" ] || docker rm -f $ids >/dev/null 2>&1 || true
  docker image prune -f --filter "label=$STAGE_LABEL" >/dev/null 2>&1 || true
  [ "${FSBX_DIND_KEEP_DAEMON:-0}" = 1 ] || docker_down
}
trap on_exit EXIT

log "run $RUN_ID, logs in $LOG_DIR"
t=$(now)
docker_install
docker_up "$LOG_DIR"
phase "docker install + start" "$t"
snapshot_host

t=$(now)
ensure_base_image
phase "base image" "$t"

t=$(now)
build_images "$LOG_DIR/build.log"
phase "project images" "$t"

t=$(now)
build_on_host
phase "host build" "$t"

t=$(now)
start_host_suite
run_all_cases
wait_host_suite
for p in ${FSBX_DIND_PROFILES:-runner}; do
  compare_with_host "1$([ "$p" = unmasked ] && echo +proc)"
done
phase "container cases + host suite" "$t"

check_docker_objects
check_host_objects
if [ "$DOCKERD_STARTED" = 1 ] && [ "${FSBX_DIND_KEEP_DAEMON:-0}" != 1 ]; then
  containerd_pid=$(cat /var/run/docker/containerd/containerd.pid 2>/dev/null ||
    true)
  pid=$DOCKERD_PID
  t=$(now)
  docker_down
  phase "docker stop" "$t"
  check_daemon_gone "$pid" "$containerd_pid"
fi
phase total "$started"

status=0
print_summary || status=1
printf '\ntimings:\n' >&2
printf '  %s\n' "${TIMINGS[@]}" >&2
log "logs: $LOG_DIR"
exit $status
