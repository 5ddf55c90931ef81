# Builds the project's images from the Dockerfile, and the base image first
# when no registry can provide it. Sourced after lib.sh.
#
# Cached on purpose (removed by `make integration-dind-clean`): the base
# image, the three images the cases run, and the build and prod-deps stages
# (so that a rebuild after a source change does not run `npm ci` again).
# An image is rebuilt only when its inputs changed: the label
# org.flow-sandbox.dind.inputs holds a hash of the build context and the
# base image. Every other layer a build leaves is removed afterwards.

# target:tag pairs, the stages kept for the next run first.
BUILD_TARGETS=(
  "build:$IMAGE_REPO:dind-cache-build"
  "prod-deps:$IMAGE_REPO:dind-cache-prod-deps"
  "runtime:$IMAGE_RUNTIME"
  "runtime-nobwrap:$IMAGE_NOBWRAP"
  "test:$IMAGE_TEST"
)

# Makes the base image available: present, pulled, or built here.
ensure_base_image() {
  if docker image inspect "$BASE_IMAGE" >/dev/null 2>&1; then
    log "base image $BASE_IMAGE is present"
    return 0
  fi
  log "pulling $BASE_IMAGE"
  if timeout 60 docker pull -q "$BASE_IMAGE" >/dev/null 2>&1; then
    return 0
  fi
  log "no registry answered; building $BASE_IMAGE locally"
  bash "$DIND_DIR/base-image.sh" "$BASE_IMAGE"
}

# A hash of what enters the build: the files git would commit (the build
# context less ignored files), their contents, and the base image's id.
inputs_hash() {
  local base_id
  base_id=$(docker image inspect -f '{{.Id}}' "$BASE_IMAGE")
  {
    echo "$base_id"
    cat "$CONTEXT_DIR/Dockerfile"
    if git -C "$CONTEXT_DIR" rev-parse --git-dir >/dev/null 2>&1; then
      git -C "$CONTEXT_DIR" ls-files -z --cached --others --exclude-standard |
        sort -z |
        (cd "$CONTEXT_DIR" && xargs -0 -r sha256sum 2>/dev/null || true)
    else
      date +%s%N # not a checkout: always rebuild
    fi
  } | sha256sum | cut -c1-16
}

image_inputs() {
  docker image inspect \
    -f "{{index .Config.Labels \"$DIND_INPUTS_LABEL\"}}" "$1" 2>/dev/null ||
    true
}

# Builds each target whose inputs changed, then removes the layers that no
# kept image needs (old tags, intermediate stage results).
build_images() {
  local logfile=$1 hash pair target tag
  hash=$(inputs_hash)

  for pair in "${BUILD_TARGETS[@]}"; do
    target=${pair%%:*}
    tag=${pair#*:}
    if [ "$(image_inputs "$tag")" = "$hash" ]; then
      log "image $tag is up to date (inputs $hash)"
      continue
    fi
    log "building target $target as $tag (log: $logfile)"
    docker build --network host --force-rm --target "$target" \
      --build-arg "BASE_IMAGE=$BASE_IMAGE" \
      --label "$DIND_LABEL=image" --label "$DIND_INPUTS_LABEL=$hash" \
      -t "$tag" "$CONTEXT_DIR" >>"$logfile" 2>&1 ||
      { tail -n 30 "$logfile" >&2; die "docker build --target $target failed"; }
  done

  docker image prune -f --filter "label=$STAGE_LABEL" >/dev/null
}
