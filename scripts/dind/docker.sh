# Docker for the integration run: Debian's docker.io when missing, and a
# daemon of our own when none answers, stopped again at the end.
# Sourced after lib.sh; sets DOCKERD_STARTED and DOCKERD_PID.

DOCKERD_STARTED=0
DOCKERD_PID=
# Whether dockerd's exec root existed before we started it (else removed).
EXEC_ROOT_EXISTED=1

# Installs docker.io when dockerd is missing. A client alone is not enough:
# some images of this machine ship a static `docker` client without a daemon.
docker_install() {
  if command -v dockerd >/dev/null && command -v docker >/dev/null; then
    return 0
  fi
  [ "$(id -u)" -eq 0 ] || die "dockerd is missing; run as root or install docker.io"
  log "installing Debian's docker.io"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends docker.io >/dev/null
}

# Starts dockerd unless one already answers. Ours changes nothing on the
# host's network: no iptables rules, no ip_forward, no default bridge (the
# runs use --network none; builds use the host's network for the package
# registries).
docker_up() {
  local state=$1
  if docker info >/dev/null 2>&1; then
    log "using the running Docker daemon"
    return 0
  fi

  [ -e /run/docker ] || EXEC_ROOT_EXISTED=0
  log "starting dockerd (log: $state/dockerd.log)"
  setsid dockerd --iptables=false --ip6tables=false --ip-forward=false \
    --ip-masq=false --bridge=none --log-level=warn \
    --pidfile "$state/dockerd.pid" >"$state/dockerd.log" 2>&1 </dev/null &
  DOCKERD_PID=$!
  DOCKERD_STARTED=1

  local _
  for _ in $(seq 1 60); do
    docker info >/dev/null 2>&1 && return 0
    kill -0 "$DOCKERD_PID" 2>/dev/null || break
    sleep 0.5
  done
  tail -n 20 "$state/dockerd.log" >&2 || true
  die "dockerd did not answer within 30 s"
}

# Stops the daemon this run started (and only that one), waiting for its
# containerd and shims to go.
docker_down() {
  [ "$DOCKERD_STARTED" = 1 ] || return 0
  log "stopping the dockerd this run started (pid $DOCKERD_PID)"
  kill -TERM "$DOCKERD_PID" 2>/dev/null || true

  local _
  for _ in $(seq 1 60); do
    kill -0 "$DOCKERD_PID" 2>/dev/null || break
    sleep 0.5
  done
  if kill -0 "$DOCKERD_PID" 2>/dev/null; then
    log "dockerd still running after 30 s; sending SIGKILL"
    kill -KILL "$DOCKERD_PID" 2>/dev/null || true
  fi
  DOCKERD_STARTED=0

  # dockerd binds the host's network namespace at /run/docker/netns/default
  # and leaves it mounted when it exits; nothing else uses it once it is gone.
  local mnt
  for mnt in $(docker_mounts); do
    umount "$mnt" 2>/dev/null || log "could not unmount $mnt"
  done
  if [ "$EXEC_ROOT_EXISTED" = 0 ] && [ -z "$(docker_mounts)" ]; then
    rm -rf /run/docker
  fi
}

# Mounts a dockerd leaves behind (its netns binds, container overlays).
docker_mounts() {
  findmnt -rn -o TARGET | grep -E '^(/var)?/run/docker/|^/var/lib/docker/' ||
    true
}
