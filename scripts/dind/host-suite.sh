# The integration suite on the host itself, so that case 1 can show the
# same verdicts inside a job container as on the host. Sourced after lib.sh
# and cases.sh; needs LOG_DIR. FSBX_DIND_HOST_COMPARE=0 turns it off.

CASE_TITLE["1-vs-host"]="  ...same test verdicts as the suite on the host"

# Test titles with their outcome (pass, fail, skip), from ava's TAP output.
tap_outcomes() {
  sed -nE 's/^(not )?ok [0-9]+ - (.*)$/\1|\2/p' "$1" | while IFS='|' read -r not rest; do
    if [ -n "$not" ]; then
      echo "fail ${rest}"
    elif [[ $rest == *'# SKIP'* ]]; then
      echo "skip ${rest%% # SKIP*}"
    else
      echo "pass ${rest}"
    fi
  done | sort -k2
}

HOST_SUITE_PID=

# Builds the checkout as `make test-integration` does.
build_on_host() {
  [ "${FSBX_DIND_HOST_COMPARE:-1}" = 1 ] || return 0
  log "building the checkout on the host"
  make -C "$CONTEXT_DIR" deps build >"$LOG_DIR/host-build.log" 2>&1 ||
    { tail -n 20 "$LOG_DIR/host-build.log" >&2; die "make build failed on the host"; }
}

# Starts the suite on the host in the background, beside the container
# cases: both spend most of their time waiting (timeouts the escape cases
# must run into, sandboxes starting), not computing, so side by side they
# take little longer than one. Its TAP goes to $LOG_DIR/host.tap.
start_host_suite() {
  [ "${FSBX_DIND_HOST_COMPARE:-1}" = 1 ] || return 0
  local files
  files=$(cd "$CONTEXT_DIR" && find dist/integration -name '*.test.js' \
    2>/dev/null | sort)
  [ -n "$files" ] || return 0
  log "running the integration suite on the host, beside the container cases"
  (cd "$CONTEXT_DIR" && exec node_modules/.bin/ava --serial --tap $files) \
    >"$LOG_DIR/host.tap" 2>"$LOG_DIR/host.err" &
  HOST_SUITE_PID=$!
}

# Waits for the host suite; its verdicts are compared, not its status.
wait_host_suite() {
  [ -n "$HOST_SUITE_PID" ] || return 0
  local status=0
  wait "$HOST_SUITE_PID" || status=$?
  HOST_SUITE_PID=
  log "the host suite ended (ava status $status)"
}

# On an early exit: the host suite must not outlive the run.
stop_host_suite() {
  [ -n "$HOST_SUITE_PID" ] || return 0
  kill -TERM "$HOST_SUITE_PID" 2>/dev/null || true
  wait "$HOST_SUITE_PID" 2>/dev/null || true
  HOST_SUITE_PID=
}

# The verdict tables the suites log (escape and kernel cases), one row per
# attempt: `test title|case id|observed|result`. A table's rows follow the
# TAP line of the test that logged it.
verdict_rows() {
  awk '/^(not )?ok [0-9]+ - / {
         t = $0; sub(/^(not )?ok [0-9]+ - /, "", t); sub(/ # SKIP.*/, "", t); next }
       /^#   [a-z0-9][a-z0-9-]* +(allowed|refused) +[a-z]+ +[A-Z]+/ {
         print t "|" $2 "|" $4 "|" $5 }' "$1" | sort
}

# Escape cases the container refused by itself in the baseline (logged).
excused_cases() {
  sed -n 's/^[ #]*\(esc-[a-z0-9-]*\): refused without a sandbox in this container.*/\1/p' \
    "$1" | sort -u
}

# Compares one container run of case 1 with the host's, test by test and
# attempt by attempt (every row of the verdict tables, each engine's).
# Only a baseline row the container excused may differ, and it is named.
compare_with_host() {
  local id=$1 container_tap=$LOG_DIR/case-$1.out diff
  [ "${FSBX_DIND_HOST_COMPARE:-1}" = 1 ] || return 0
  grep -q "^@@ result $id " "$container_tap" 2>/dev/null || return 0
  if ! grep -qE '^(not )?ok ' "$container_tap"; then
    record "$id-vs-host" SKIP "no test ran in case $id"
    return 0
  fi
  if ! grep -qE '^(not )?ok ' "$LOG_DIR/host.tap" 2>/dev/null; then
    record "$id-vs-host" FAIL "the host suite ran no test (see $LOG_DIR/host.err)"
    return 0
  fi

  tap_outcomes "$LOG_DIR/host.tap" >"$LOG_DIR/host.outcomes"
  tap_outcomes "$container_tap" >"$LOG_DIR/$id.outcomes"
  diff=$( (diff "$LOG_DIR/host.outcomes" "$LOG_DIR/$id.outcomes" || true) |
    sed -n 's/^\([<>]\) /\1/p' | sed 's/^</host: /; s/^>/container: /')
  local excused rows
  excused=$(excused_cases "$container_tap" | paste -sd'|')
  verdict_rows "$LOG_DIR/host.tap" >"$LOG_DIR/host.verdicts"
  verdict_rows "$container_tap" >"$LOG_DIR/$id.verdicts"
  local drop="^[^|]*baseline[^|]*\\|(${excused:-none-excused})\\|"
  local rowdiff
  rowdiff=$( (diff <(grep -vE "$drop" "$LOG_DIR/host.verdicts") \
    <(grep -vE "$drop" "$LOG_DIR/$id.verdicts") || true) |
    sed -n 's/^\([<>]\) /\1/p' | sed 's/^</host: /; s/^>/container: /')
  diff=$(printf '%s\n%s\n' "$diff" "$rowdiff" | sed '/^$/d')
  rows=$(grep -cvE "$drop" "$LOG_DIR/host.verdicts" || true)

  local n
  n=$(wc -l <"$LOG_DIR/host.outcomes")
  if [ -z "$diff" ] && [ "$rows" -gt 0 ]; then
    record "$id-vs-host" PASS "all $n tests: same outcome on the host and in the container ($(cut -d' ' -f1 "$LOG_DIR/host.outcomes" | sort | uniq -c | xargs)); all $rows attempts of the verdict tables (escape suite per engine, kernel cases): same verdict${excused:+; not compared: the baseline row of $excused, refused by the container itself}"
  elif [ -z "$diff" ]; then
    record "$id-vs-host" FAIL "same test outcomes, but no verdict table found to compare"
  else
    record "$id-vs-host" FAIL "$(echo "$diff" | wc -l) differences: $(echo "$diff" | head -n 4 | tr '\n' ';')"
  fi
}
