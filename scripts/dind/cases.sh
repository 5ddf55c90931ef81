# Starts each case's job container the way a runner would and collects the
# verdicts it prints. Sourced after lib.sh; needs RUN_ID, LOG_DIR, RESULTS.

# What each verdict line means, for the summary table.
declare -A CASE_TITLE=(
  [1-offline]="runner flags: the container has no way off the machine"
  [1]="runner flags: integration suite in the container (test netns)"
  [1-clean]="  ...nothing left in the container afterwards"
  [2a]="default caps: no engine applies, runs directly with a warning"
  [2b]="default caps, --minimum-level srt: exit 125, not run"
  [2c]="default caps, --minimum-level kernel: exit 125, not run"
  [2-clean]="  ...nothing left in the container afterwards"
  [3]="runner flags, no bubblewrap: auto picks kernel (dry run)"
  [3-run]="runner flags, no bubblewrap: auto runs with kernel"
  [3-clean]="  ...nothing left in the container afterwards"
  [3-control]="runner flags, bubblewrap: auto picks srt (dry run)"
  [3-control-run]="runner flags, bubblewrap: auto runs with srt"
  [3-control-clean]="  ...nothing left in the container afterwards"
  [4-srt-allow]="docker.sock, srt, default policy: docker version answers"
  [4-srt-deny]="docker.sock, srt, deny_unix_sockets: docker version fails"
  [4-srt-clean]="  ...nothing left in the container afterwards"
  [4-kernel-allow]="docker.sock, kernel, default policy: docker version answers"
  [4-kernel-deny]="docker.sock, kernel, deny_unix_sockets: docker version fails"
  [4-kernel-clean]="  ...nothing left in the container afterwards"
)

record() { printf '%s %s %s\n' "$1" "$2" "$3" >>"$RESULTS"; }

# run_case NAME TIMEOUT IMAGE [docker run options...] -- in-container args
# The container has no network (--network none): the cases need none, and
# the test network of case 1 is made of namespaces inside it, so nothing it
# sends can leave the machine (case 1-offline checks). Profiles: Docker's
# defaults (case 2), the runner's flags (PRIVILEGED_OPTS), and, only when
# FSBX_DIND_PROFILES asks, the runner's flags with /proc unmasked
# (UNMASKED_OPTS, ids ending in +proc).
run_case() {
  local name=$1 limit=$2 image=$3 opts=()
  shift 3
  while [ "$1" != -- ]; do opts+=("$1"); shift; done
  shift

  local log=$LOG_DIR/case-$name cid status
  log "case $name: docker run ${opts[*]} $image ... $*"
  cid=$(docker run -d --name "fsbx-dind-$RUN_ID-${name//+/-}" \
    --label "$DIND_LABEL=case" --label "$DIND_RUN_LABEL=$RUN_ID" \
    --network none -v "$DIND_DIR:/fsbx-dind:ro" "${opts[@]}" \
    "$image" bash /fsbx-dind/in-container.sh "$@" 2>"$log.start") || {
    record "$name" FAIL "the container did not start: $(tail -n 1 "$log.start")"
    return 0
  }

  status=$(timeout "$limit" docker wait "$cid") || {
    docker kill "$cid" >/dev/null 2>&1 || true
    status="timeout after ${limit}s"
  }
  docker logs "$cid" >"$log.out" 2>"$log.err" || true
  docker rm -f "$cid" >/dev/null 2>&1 || true

  if grep -q '^@@ result ' "$log.out"; then
    sed -n 's/^@@ result //p' "$log.out" >>"$RESULTS"
  else
    record "$name" FAIL "no verdict: container ended with status $status (see $log.out)"
  fi
  [ "$status" = 0 ] || log "case $name: container status $status"
}

run_all_cases() {
  local socket=${DOCKER_SOCKET_PATH:-/var/run/docker.sock} p suffix client
  # The runner image has no docker client: the host's (docker.io's, or a
  # static one) goes in beside the socket, read-only.
  client=$(readlink -f "$(command -v docker)")
  local sock=(-v "$socket:/var/run/docker.sock"
    -v "$client:/usr/local/bin/docker:ro")

  for p in ${FSBX_DIND_PROFILES:-runner}; do
    local opts=("${PRIVILEGED_OPTS[@]}")
    suffix=
    if [ $p = unmasked ]; then
      opts=("${UNMASKED_OPTS[@]}")
      suffix=+proc
    fi
    run_case "1$suffix" "${FSBX_DIND_SUITE_TIMEOUT:-900}" "$IMAGE_TEST" \
      "${opts[@]}" -- suite "1$suffix"
    run_case "3$suffix" 180 "$IMAGE_NOBWRAP" "${opts[@]}" \
      -- auto-kernel "3$suffix"
    run_case "3-control$suffix" 180 "$IMAGE_RUNTIME" "${opts[@]}" \
      -- auto-srt "3-control$suffix"
    run_case "4-srt$suffix" 180 "$IMAGE_RUNTIME" "${opts[@]}" "${sock[@]}" \
      -- socket srt "4-srt$suffix"
    run_case "4-kernel$suffix" 180 "$IMAGE_RUNTIME" "${opts[@]}" \
      "${sock[@]}" -- socket kernel "4-kernel$suffix"
  done
  run_case 2 180 "$IMAGE_RUNTIME" -- unprivileged
}

# The table the run ends with; returns non-zero when a verdict is FAIL (or,
# with FSBX_DIND_STRICT=1, SKIP).
print_summary() {
  local id verdict detail title bad=0
  printf '\n%-22s %-7s %s\n' CASE VERDICT 'WHAT (and what it showed)'
  printf '%s\n' "$(printf '%.0s-' {1..100})"
  while read -r id verdict detail; do
    title=${CASE_TITLE[${id/+proc/}]:-}
    [[ $id == *+proc* ]] && title="$title [+systempaths=unconfined]"
    printf '%-22s %-7s %s\n%31s%s\n' "$id" "$verdict" "$title" '' "$detail"
    case "$verdict" in
      PASS) ;;
      SKIP) [ "${FSBX_DIND_STRICT:-0}" = 1 ] && bad=1 ;;
      *) bad=1 ;;
    esac
  done <"$RESULTS"
  return $bad
}
