#!/bin/sh
# The agent flow of the demo and the integration tests: runs every verdict
# case of integration/cases.ts (written to CASES_DIR by writeCaseFiles) in
# ONE process tree, as an agent's job would, and prints one JSON line per
# case: {"id":..,"observed":"allowed|refused|error","status":N,"detail":..}
# Usage: agent-flow.sh CASES_DIR [CASE-ID...]
set -u

FLOW_DIR=$(cd "$(dirname "$0")" && pwd)
export PROBES="$FLOW_DIR/probes"
CASES_DIR=${1:?usage: agent-flow.sh CASES_DIR [CASE-ID...]}
shift
CASE_TIMEOUT=${FSBXT_CASE_TIMEOUT:-40}

out=$(mktemp /tmp/fsbxt-flow-out.XXXXXX) || exit 125
err=$(mktemp /tmp/fsbxt-flow-err.XXXXXX) || exit 125
trap 'rm -f "$out" "$err"' EXIT

# json_text: stdin as a JSON string body (printable ASCII, escaped, bounded).
json_text() {
  tr '\n\t\r' '   ' | tr -cd '[:print:]' | sed 's/\\/\\\\/g; s/"/\\"/g' |
    cut -c1-400
}

run_case() {
  id=$1
  timeout -k 2 "$CASE_TIMEOUT" sh -c '. "$1"; . "$2"' fsbxt-case \
    "$FLOW_DIR/probe-lib.sh" "$CASES_DIR/$id.sh" >"$out" 2>"$err" </dev/null
  status=$?
  last=$(tail -n 1 "$out")
  case "$status:$last" in
  0:allowed | 0:refused) observed=$last ;;
  *) observed=error ;;
  esac
  detail=$({ head -c 2000 "$err"; head -n -1 "$out"; } | json_text)
  printf '{"id":"%s","observed":"%s","status":%d,"detail":"%s"}\n' \
    "$id" "$observed" "$status" "$detail"
}

if [ $# -gt 0 ]; then
  for id in "$@"; do run_case "$id"; done
else
  while IFS= read -r id; do
    [ -n "$id" ] && run_case "$id"
  done <"$CASES_DIR/order"
fi
