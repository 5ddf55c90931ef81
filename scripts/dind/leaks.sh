# Proves the run left nothing behind on the host: Docker objects by our
# labels, and kernel objects Docker could have made. Sourced after lib.sh.
#
# Other sessions create netns, links and nft tables on this machine at the
# same time (named fsbx...), so the host comparison only fails on what this
# run could have made: Docker's links, bridges and chains, or our run id.

CASE_TITLE["clean-docker"]="no container, network, volume or stray layer left"
CASE_TITLE["clean-host"]="no netns, link, nft table or chain left on the host"
CASE_TITLE["clean-daemon"]="the dockerd this run started is gone"

# Kernel objects as lines: netns, links, nft tables, iptables chains.
host_objects() {
  ip netns list 2>/dev/null | awk '{print "netns " $1}'
  ip -o link show | awk -F': ' '{split($2, a, "@"); print "link " a[1]}'
  nft list tables 2>/dev/null | sed 's/^/nft /'
  iptables-save 2>/dev/null | sed -n 's/^:\([^ ]*\).*/iptables-chain \1/p'
}

dangling_volumes() { docker volume ls -q -f dangling=true | sort; }

# Before anything runs: the baseline the end is compared to.
snapshot_host() {
  host_objects | sort >"$LOG_DIR/host-before"
  dangling_volumes >"$LOG_DIR/volumes-before"
}

check_docker_objects() {
  local found=()
  local containers networks volumes layers builders
  containers=$(docker ps -aq --filter "label=$DIND_RUN_LABEL=$RUN_ID")
  builders=$(docker ps -aq --filter "label=$STAGE_LABEL")
  networks=$(docker network ls -q --filter "label=$DIND_LABEL")
  volumes=$(comm -13 "$LOG_DIR/volumes-before" <(dangling_volumes))
  layers=$(docker images -aq --filter "label=$STAGE_LABEL" \
    --filter dangling=true)
  [ -n "$containers" ] && found+=("containers: $(echo $containers)")
  [ -n "$builders" ] && found+=("build containers: $(echo $builders)")
  [ -n "$networks" ] && found+=("networks: $(echo $networks)")
  [ -n "$volumes" ] && found+=("volumes: $(echo $volumes)")
  [ -n "$layers" ] && found+=("dangling layers: $(echo $layers)")

  log "images kept on purpose (make integration-dind-clean removes them):"
  docker images --filter "label=$DIND_LABEL" \
    --format '  {{.Repository}}:{{.Tag}} {{.ID}} {{.Size}}' >&2
  if [ ${#found[@]} -eq 0 ]; then
    record clean-docker PASS "docker ps -a / network ls / volume ls / images -a by our labels: nothing but the kept images"
  else
    record clean-docker FAIL "left behind: ${found[*]}"
  fi
}

check_host_objects() {
  local new ours
  host_objects | sort >"$LOG_DIR/host-after"
  new=$(comm -13 "$LOG_DIR/host-before" "$LOG_DIR/host-after")
  ours=$(grep -E "docker|DOCKER|br-[0-9a-f]{12}|veth[0-9a-f]{7}|$RUN_ID" \
    <<<"$new" || true)
  if [ -n "$new" ] && [ -z "$ours" ]; then
    log "new host objects made by other sessions (not ours, ignored): $(echo $new)"
  fi
  if [ -z "$ours" ]; then
    record clean-host PASS "ip netns / ip link / nft list tables / iptables-save: nothing new from Docker or this run"
  else
    record clean-host FAIL "new on the host: $(echo $ours)"
  fi
}

# After docker_down: the daemon, its containerd and its socket are gone.
check_daemon_gone() {
  local pid=$1 containerd_pid=$2 left=()
  kill -0 "$pid" 2>/dev/null && left+=("dockerd $pid")
  [ -n "$containerd_pid" ] && kill -0 "$containerd_pid" 2>/dev/null &&
    left+=("containerd $containerd_pid")
  [ -S /var/run/docker.sock ] && left+=("/var/run/docker.sock")
  local mounts
  mounts=$(docker_mounts)
  [ -n "$mounts" ] && left+=("mounts: $(echo $mounts)")
  if [ ${#left[@]} -eq 0 ]; then
    record clean-daemon PASS "dockerd and its containerd stopped, socket and its mounts (netns bind) removed"
  else
    record clean-daemon FAIL "still there: ${left[*]}"
  fi
}
