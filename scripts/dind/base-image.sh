#!/usr/bin/env bash
# Builds the image the Dockerfile's FROM names (node:20-bookworm-slim) without
# any registry: Debian bookworm by debootstrap from the Debian mirror, plus
# the host's own Node 20 runtime and npm, laid out as the official image does
# (/usr/local/bin/node, /usr/local/lib/node_modules/npm, user `node` 1000).
#
# Usage: base-image.sh [TAG]   (default: $BASE_IMAGE from lib.sh)
set -euo pipefail
. "$(dirname "$0")/lib.sh"

tag=${1:-$BASE_IMAGE}
mirror=${FSBX_DIND_MIRROR:-http://deb.debian.org/debian}
security=${FSBX_DIND_SECURITY_MIRROR:-http://deb.debian.org/debian-security}

# The host's Node: the runtime binary and npm beside it under one prefix.
node_bin=$(readlink -f "$(command -v node)") || die "node is not on the PATH"
prefix=$(dirname "$(dirname "$node_bin")")
node_version=$("$node_bin" -p process.versions.node)
[ "${node_version%%.*}" = 20 ] ||
  die "host node at $node_bin is $node_version; the image needs Node 20"
npm_dir=$prefix/lib/node_modules/npm
[ -f "$npm_dir/bin/npm-cli.js" ] || die "npm not found at $npm_dir"

if ! command -v debootstrap >/dev/null; then
  log "installing debootstrap"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
    --no-install-recommends debootstrap >/dev/null
fi

work=$(mktemp -d /var/tmp/fsbx-dind-base.XXXXXX)
trap 'rm -rf "$work"' EXIT
root=$work/rootfs

log "debootstrap bookworm (minbase) from $mirror"
debootstrap --variant=minbase bookworm "$root" "$mirror" \
  >"$work/debootstrap.log" 2>&1 ||
  { tail -n 20 "$work/debootstrap.log" >&2; die "debootstrap failed"; }

log "adding the host's node $node_version ($node_bin) and npm ($npm_dir)"
install -m 0755 "$node_bin" "$root/usr/local/bin/node"
mkdir -p "$root/usr/local/lib/node_modules"
cp -a "$npm_dir" "$root/usr/local/lib/node_modules/npm"
ln -s ../lib/node_modules/npm/bin/npm-cli.js "$root/usr/local/bin/npm"
ln -s ../lib/node_modules/npm/bin/npx-cli.js "$root/usr/local/bin/npx"

# The official image's sources: the release, its updates and security.
rm -f "$root/etc/apt/sources.list"
cat >"$root/etc/apt/sources.list.d/debian.sources" <<EOF
Types: deb
URIs: $mirror
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: $security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF

# The host's locally added CAs: where the host reaches the npm registry
# through a TLS-inspecting gateway, npm and curl in the image must trust the
# same roots. ca-certificates (installed later) picks the .crt files up;
# node and npm see them through NODE_EXTRA_CA_CERTS before that.
extra_ca=()
mkdir -p "$root/usr/local/share/ca-certificates" "$root/usr/local/etc"
shopt -s nullglob
for crt in /usr/local/share/ca-certificates/*.crt; do
  install -m 0644 "$crt" "$root/usr/local/share/ca-certificates/"
  cat "$crt" >>"$root/usr/local/etc/host-ca.pem"
  extra_ca=(--change "ENV NODE_EXTRA_CA_CERTS=/usr/local/etc/host-ca.pem")
done
shopt -u nullglob

chroot "$root" groupadd --gid 1000 node
chroot "$root" useradd --uid 1000 --gid node --shell /bin/bash \
  --create-home node
chroot "$root" env -i /usr/local/bin/node -e 'require("node:crypto").randomUUID()' ||
  die "the copied node does not run in the Debian root (missing libraries?)"
rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin \
  "$root"/var/cache/apt/archives/*.deb

# A locally built image this replaces would be left dangling: remove it.
old=$(docker image inspect -f "{{index .Config.Labels \"$DIND_LABEL\"}} {{.Id}}" \
  "$tag" 2>/dev/null || true)

log "importing as $tag"
tar --numeric-owner -C "$root" -c . | docker import \
  --change "LABEL $DIND_LABEL=base" \
  --change "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
  --change "ENV NODE_VERSION=$node_version" \
  --change 'CMD ["node"]' "${extra_ca[@]}" \
  - "$tag" >/dev/null
docker run --rm --network none --label "$DIND_LABEL=probe" "$tag" sh -c 'node --version && npm --version' |
  tr '\n' ' ' | sed 's/^/[dind] base image runs node, npm: /' >&2
echo >&2

if [ "${old%% *}" = base ]; then
  docker rmi "${old#* }" >/dev/null 2>&1 || true
fi
