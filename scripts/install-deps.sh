#!/usr/bin/env bash
# Installs the Debian packages flow-sandbox and its tests need, when missing.
set -euo pipefail

# openssh-client: the escape suite's SSH-agent cases (skipped without it).
packages=(bubblewrap socat ripgrep nftables iptables iproute2 util-linux git curl python3 procps
  bind9-dnsutils openssh-client)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "flow-sandbox: missing Debian packages: ${missing[*]}; run as root or install them with apt-get" >&2
  exit 1
fi

echo "flow-sandbox: installing Debian packages: ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
