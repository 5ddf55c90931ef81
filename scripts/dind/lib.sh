# Shared names and helpers for the Docker-in-runner integration run.
# Sourced by the other scripts in scripts/dind/; never run directly.

# Every Docker object the run makes carries one of these labels, so the
# final check and `make integration-dind-clean` find exactly ours.
DIND_LABEL=org.flow-sandbox.dind
DIND_RUN_LABEL=org.flow-sandbox.dind.run
DIND_INPUTS_LABEL=org.flow-sandbox.dind.inputs
# Set by the Dockerfile on every stage, so intermediate images are ours too.
STAGE_LABEL=org.flow-sandbox.stage

# The name the Dockerfile's FROM expects; built locally when no registry
# answers, labelled so that only a locally built one is ever removed.
BASE_IMAGE=${FSBX_DIND_BASE_IMAGE:-node:20-bookworm-slim}
IMAGE_REPO=${FSBX_DIND_IMAGE_REPO:-flow-sandbox-runner}
IMAGE_RUNTIME=$IMAGE_REPO:dind
IMAGE_NOBWRAP=$IMAGE_REPO:dind-nobwrap
IMAGE_TEST=$IMAGE_REPO:dind-test

# How runners start job containers here: --privileged fails on this kind of
# machine (the host's bounding set lacks CAP_SYS_RESOURCE, and runc refuses
# to grant it), so everything else is added instead.
# seccomp=unconfined is needed: Docker's profile refuses bubblewrap's
# pivot_root even with CAP_SYS_ADMIN. AppArmor is not enabled on this kernel,
# so apparmor=unconfined changes nothing; cgroups stay read-only and no
# engine needs them.
PRIVILEGED_OPTS=(--cap-add ALL --cap-drop SYS_RESOURCE
  --security-opt seccomp=unconfined)
# The same with /proc unmasked. Docker masks /proc paths and mounts
# /proc/sys read-only even with every capability; both engines work around
# that (a private, fresh procfs: see src/engines/srt/proc.ts and
# src/netns/sysctl.ts), so this profile only runs when FSBX_DIND_PROFILES
# names it ("runner unmasked"); its cases end in +proc.
UNMASKED_OPTS=("${PRIVILEGED_OPTS[@]}" --security-opt systempaths=unconfined)

# The legacy builder works with every client and daemon pairing found on
# these machines (a newer static client beside Debian's 20.10 daemon, and no
# buildx plugin); BuildKit would need one.
export DOCKER_BUILDKIT=0

DIND_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_DIR=$(cd "$DIND_DIR/../.." && pwd)
# The checkout the images are built from (another one only to try it out).
CONTEXT_DIR=${FSBX_DIND_CONTEXT:-$REPO_DIR}

# Structured enough to grep, short enough to read in a job log.
log() { printf '[dind %s] %s\n' "$(date +%T)" "$*" >&2; }
die() {
  log "error: $*"
  exit 1
}

# Seconds since the epoch, for phase timings.
now() { date +%s; }
