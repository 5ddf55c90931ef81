#!/usr/bin/env bash
# Runs inside a job container (bind-mounted read-only) and checks one case.
# Prints `@@ result ID VERDICT DETAIL` lines on stdout for the host's table;
# everything else is evidence for the log. VERDICT is PASS, FAIL or SKIP.
#
# Usage: in-container.sh suite ID | unprivileged | auto-kernel ID
#        | auto-srt ID | socket ENGINE ID | leaks ID
# ID names the case in the verdict lines (the host adds the profile).
set -uo pipefail

FSBX_HOME=/opt/flow-sandbox
WORK=/builds/project
SOCKET=/var/run/docker.sock
mkdir -p "$WORK" && cd "$WORK" || exit 1

result() { printf '@@ result %s %s %s\n' "$1" "$2" "$3"; }
section() { printf '\n==== %s\n' "$*"; }

# The CLI lands on main during the session; until then nothing can run.
have_cli() { [ -f "$FSBX_HOME/dist/src/cli/main.js" ]; }

# Whether this build has an engine (the kernel engine lands on main later).
have_engine() {
  local out
  out=$(flow-sandbox run --force-sandbox --engine "$1" --dry-run -- true 2>&1)
  ! grep -qE "not available in this build|\"$1\" is not accepted" <<<"$out"
}

# The engine that really ran the command: a chosen engine that cannot start
# falls back to the next, so the plan's first choice is not enough.
ran_with() {
  sed -n 's/.*command finished with status [0-9]* (engine=\([a-z]*\)).*/\1/p' \
    /tmp/fsbx-err | tail -n 1
}

# The engine a dry run would use, from its JSON plan on stdout. The field
# is a name or an object naming it (`chosen`); the first one found wins.
plan_engine() {
  node -e '
    let j; try { j = JSON.parse(require("fs").readFileSync(0, "utf8")); }
    catch { process.stdout.write("unparsable"); process.exit(0); }
    const find = (v) => {
      if (!v || typeof v !== "object") return undefined;
      if ("engine" in v) {
        const e = v.engine;
        if (typeof e === "string") return e;
        if (e && typeof e === "object") return e.chosen ?? e.name ?? e.id;
      }
      for (const x of Object.values(v)) { const r = find(x); if (r) return r; }
    };
    process.stdout.write(String(find(j) ?? "none-found"));'
}

# Runs flow-sandbox, keeping stdout, stderr and the exit status apart.
# Sets RC; the outputs are in /tmp/fsbx-out and /tmp/fsbx-err.
fsbx() {
  section "flow-sandbox $*"
  flow-sandbox "$@" >/tmp/fsbx-out 2>/tmp/fsbx-err
  RC=$?
  echo "exit $RC"
  echo "-- stdout"; tail -n 40 /tmp/fsbx-out
  echo "-- stderr"; tail -n 40 /tmp/fsbx-err
}

# Kernel objects and helper processes left in this container after a case.
# With --network none the container starts with only `lo`, no netns, no
# tables: anything else was made by the case and not removed.
leaks() {
  local id=$1 found=()
  section "leftovers after $id"
  local netns links tables rules procs
  netns=$(ip netns list 2>/dev/null)
  links=$(ip -o link show | awk -F': ' '$2 != "lo" {print $2}')
  tables=$(nft list tables 2>/dev/null)
  rules=$(iptables-save 2>/dev/null | grep -E '^-A' ; ip6tables-save 2>/dev/null | grep -E '^-A')
  # Listed to a file first so that no subshell of ours shows up in it.
  ps -eo pid=,comm= >/tmp/fsbx-ps
  procs=$(awk -v me=$$ '$1 != 1 && $1 != me && $2 != "ps"' /tmp/fsbx-ps)
  [ -n "$netns" ] && found+=("netns: $(echo $netns)")
  [ -n "$links" ] && found+=("links: $(echo $links)")
  [ -n "$tables" ] && found+=("nft: $(echo $tables)")
  [ -n "$rules" ] && found+=("iptables rules: $(echo "$rules" | wc -l)")
  [ -n "$procs" ] && found+=("processes: $(echo $procs)")
  echo "netns: ${netns:-none}"; echo "links: ${links:-none}"
  echo "nft: ${tables:-none}"; echo "iptables rules: ${rules:-none}"
  echo "processes: ${procs:-none}"
  if [ ${#found[@]} -eq 0 ]; then
    result "$id" PASS "no netns, links, nft tables, iptables rules or helper processes left in the container"
  else
    result "$id" FAIL "left behind: ${found[*]}"
  fi
}

# The container's own network before the suite builds its test network in
# it: with --network none only `lo`, and no route but loopback's. The test
# network is namespaces joined to each other, never to this one's outside,
# so no packet of it can leave the machine.
offline() {
  local id=$1 links routes
  section "network of the container"
  ip -o link show; ip route show table all; ip -6 route show table all
  links=$(ip -o link show | awk -F': ' '{split($2, a, "@"); print a[1]}' |
    grep -vx lo)
  routes=$( (ip route show table all; ip -6 route show table all) |
    grep -vE '(^| )dev lo( |$)' || true)
  if [ -z "$links" ] && [ -z "$routes" ]; then
    result "$id" PASS "--network none: only lo, no route but loopback's; the test network's namespaces have no link out of this one"
  else
    result "$id" FAIL "the container has a way out: links: ${links:-none}; routes: $(echo $routes)"
  fi
}

# Case 1: the integration suite, which builds its own test network of
# namespaces inside this container.
case_suite() {
  local id=$1
  cd "$FSBX_HOME" || exit 1
  local files
  files=$(find dist/integration -name '*.test.js' 2>/dev/null | sort)
  if [ -z "$files" ]; then
    result "$id" SKIP "no integration tests in the image (dist/integration is empty: the test network and its cases are not on main yet)"
    return 1
  fi
  section "ava --serial --tap $(echo $files)"
  node_modules/.bin/ava --serial --tap $files >/tmp/suite.tap 2>/tmp/suite.err
  local rc=$? pass fail skip first
  cat /tmp/suite.tap; echo "-- stderr"; tail -n 60 /tmp/suite.err
  # ava's own totals: a failed hook fails every test of its file.
  pass=$(sed -n 's/^# pass \([0-9]*\)$/\1/p' /tmp/suite.tap)
  fail=$(sed -n 's/^# fail \([0-9]*\)$/\1/p' /tmp/suite.tap)
  skip=$(sed -n 's/^# skip \([0-9]*\)$/\1/p' /tmp/suite.tap)
  pass=${pass:-0} fail=${fail:-0} skip=${skip:-0}
  # The first failing test and the first line of its report that says why.
  first=$(awk '/^not ok /{ if (t) exit; t=$0; next }
      t && /^  \.\.\.$/ { exit }
      t && !e && /EROFS|denied|not permitted/ { e=$0; getline n; e=e " " n }
      t && !m && /^ *(message|stderrTail): / {
        m=$0; sub(/^ *[a-zA-Z]+: /, "", m); if (m ~ /^[|>]/) { getline; m=$0 } }
      END { if (t) print t ": " (e ? e : m) }' /tmp/suite.tap |
    sed 's/^not ok [0-9]* - //; s/  */ /g; s/ message: / /' | cut -c1-260)
  echo "@@ suite pass=$pass fail=$fail skip=$skip rc=$rc"
  # Escape cases the container refuses by itself (the baseline says so).
  local excused
  excused=$(sed -n 's/^[ #]*\(esc-[a-z0-9-]*\): refused without a sandbox in this container.*/\1/p' \
    /tmp/suite.tap | sort -u | xargs)
  [ -z "$excused" ] || excused="; refused by the container itself, without a sandbox (proves nothing about the engines here): $excused"
  grep -E '^(not ok |ok .*# SKIP)' /tmp/suite.tap | sed 's/^/@@ suite-line /'
  if [ "$fail" -gt 0 ] || { [ "$rc" -ne 0 ] && [ "$pass" -eq 0 ]; }; then
    result "$id" FAIL "$pass passed, $fail failed, $skip skipped (ava exit $rc); first: ${first:-?}"
  elif [ "$pass" -eq 0 ]; then
    result "$id" SKIP "no test ran: $skip skipped"
  elif [ "$rc" -ne 0 ]; then
    result "$id" FAIL "$pass passed but ava exited $rc"
  elif [ "$skip" -gt 0 ]; then
    result "$id" SKIP "partial: $pass passed, $skip skipped (see the @@ suite-line entries)"
  else
    result "$id" PASS "$pass integration tests passed, none skipped$excused"
  fi
}

main() {
  case "${1:-}" in
    suite) offline "$2-offline"; case_suite "$2" && leaks "$2-clean" ;;
    leaks) leaks "$2" ;;
    *)
      . "$(dirname "$0")/in-container-cases.sh"
      "case_${1//-/_}" "${@:2}"
      ;;
  esac
}

main "$@"
