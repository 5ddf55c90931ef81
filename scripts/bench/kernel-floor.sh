#!/bin/sh
# The kernel engine's floor: the objects a kernel run needs at the least
# (a namespace joined by a veth pair, an nft table, a mount and PID
# namespace for the command), made and removed by the tools alone, with no
# controller, resolver, view or record. bench-kernel.ts times it beside
# `run --engine kernel -- true`: what is left is flow-sandbox's own cost.
# Sends no traffic; removes what it made, also when a step fails.
set -eu
# The system's tools: under npm, node_modules/.bin comes first on PATH (and
# an npm package there is called nft too).
PATH=/usr/sbin:/usr/bin:/sbin:/bin
n="fsbxfloor$$"
h="${n}h"
cleanup() {
  nft delete table inet "$n" 2>/dev/null || true
  ip link del "$h" 2>/dev/null || true
  ip netns del "$n" 2>/dev/null || true
}
trap cleanup EXIT
ip -batch - <<B
netns add $n
link add $h type veth peer name ${n}s netns $n
addr add 10.255.255.253/30 dev $h
link set $h up
B
ip -n "$n" -batch - <<B
link set lo up
addr add 10.255.255.254/30 dev ${n}s
link set ${n}s up
B
nft -f - <<B
table inet $n {
	chain forward {
		type filter hook forward priority filter; policy accept;
		iifname "$h" accept
	}
}
B
nsenter --net="/run/netns/$n" unshare --mount --propagation private --pid --fork --kill-child \
  sh -c 'mount -o remount,bind,ro / && true'
