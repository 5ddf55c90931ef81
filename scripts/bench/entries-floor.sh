#!/bin/sh
# The least any controller pays for allow entries in the firewall: an nft
# table holding one set with the addresses of FILE (one per line, the
# form flow-sandbox loads them in), loaded and removed by nft alone.
# bench-kernel.ts times it with 10 and with 10,000 addresses beside runs
# with as many allow entries. Sends no traffic; removes what it made.
#
#   sh entries-floor.sh FILE
set -eu
# The system's nft (under npm an npm package called nft comes first).
PATH=/usr/sbin:/usr/bin:/sbin:/bin
file=$1
n="fsbxfloor$$"
trap 'nft delete table inet "$n" 2>/dev/null || true' EXIT
count=$(wc -l <"$file")
{
  printf 'table inet %s {\n\tset host4 {\n\t\ttype ipv4_addr\n\t\tsize %s\n\t\telements = {\n' "$n" "$count"
  sed 's/$/,/' "$file"
  printf '\t\t}\n\t}\n}\n'
} | nft -f -
