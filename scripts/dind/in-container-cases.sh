# Cases 2 to 4, sourced by in-container.sh inside the job container (which
# provides result, section, fsbx, plan_engine, have_cli, leaks, WORK, SOCKET).

# Case 2, Docker's default capabilities: no engine can apply. Without a
# minimum level the command runs directly with a warning; with one it must
# not run at all (exit 125, no marker file).
case_unprivileged() {
  if ! have_cli; then
    for id in 2a 2b 2c; do result $id SKIP "the CLI is not on main yet"; done
    return
  fi

  rm -f "$WORK"/marker-*
  fsbx run --force-sandbox -- sh -c "echo ran > $WORK/marker-2a"
  local warn
  warn=$(grep -iE 'warn' /tmp/fsbx-err | head -n 1 | cut -c1-160)
  if [ "$RC" -eq 0 ] && [ -f "$WORK/marker-2a" ] && [ -n "$warn" ]; then
    result 2a PASS "ran directly (exit 0, marker written) with a warning: $warn"
  else
    result 2a FAIL "exit $RC, marker $( [ -f "$WORK/marker-2a" ] && echo written || echo missing), warning: ${warn:-none}"
  fi

  local level id
  for level in srt kernel; do
    id=$([ $level = srt ] && echo 2b || echo 2c)
    fsbx run --force-sandbox --minimum-level $level -- \
      sh -c "echo ran > $WORK/marker-$id"
    if [ "$RC" -eq 125 ] && [ ! -e "$WORK/marker-$id" ]; then
      result $id PASS "--minimum-level $level: exit 125, command not run (no marker)"
    else
      result $id FAIL "--minimum-level $level: exit $RC, marker $( [ -e "$WORK/marker-$id" ] && echo written || echo absent)"
    fi
  done
  leaks 2-clean
}

# The engine `auto` picks, from the dry run and from a real run's log.
# Used for case 3 (no bubblewrap: kernel) and its control (bubblewrap: srt).
auto_engine_case() {
  local id=$1 want=$2
  if ! have_cli; then
    result "$id" SKIP "the CLI is not on main yet"
    return
  fi

  fsbx run --force-sandbox --dry-run --json -- true
  local engine
  engine=$(plan_engine </tmp/fsbx-out)
  if [ "$RC" -ne 0 ]; then
    result "$id" FAIL "dry run exited $RC: $(tail -n 1 /tmp/fsbx-err | cut -c1-160)"
  elif [ "$engine" = "$want" ]; then
    result "$id" PASS "--dry-run --json: engine \"$engine\""
  else
    result "$id" FAIL "--dry-run --json: engine \"$engine\", expected \"$want\""
  fi

  rm -f "$WORK/marker-$id"
  fsbx run --force-sandbox --log-level info -- \
    sh -c "echo ran > $WORK/marker-$id"
  local line
  line=$(grep -iE "engine.*$want|$want.*engine" /tmp/fsbx-err | head -n 1 |
    cut -c1-160)
  if [ "$RC" -eq 0 ] && [ -f "$WORK/marker-$id" ] && [ -n "$line" ]; then
    result "$id-run" PASS "real run: exit 0, marker written, log: $line"
  else
    result "$id-run" FAIL "real run: exit $RC, marker $( [ -f "$WORK/marker-$id" ] && echo written || echo missing), log line naming $want: ${line:-none}"
  fi
  leaks "$id-clean"
}

case_auto_kernel() { auto_engine_case 3 kernel; }
case_auto_srt() { auto_engine_case 3-control srt; }

# Case 4: the Docker socket bind-mounted into the job container. A Docker
# API call through it must reach the daemon when the policy allows the
# socket (the default policy does) and fail when it does not. The client is
# curl, already in the image; no docker client is needed.
case_socket() {
  local engine=$1 id=4-$1
  if ! have_cli; then
    result "$id-allow" SKIP "the CLI is not on main yet"
    result "$id-deny" SKIP "the CLI is not on main yet"
    return
  fi
  [ -S "$SOCKET" ] || { result "$id-allow" FAIL "$SOCKET is not mounted"; return; }

  section "outside the sandbox"
  curl -sS --max-time 10 --unix-socket "$SOCKET" http://localhost/version |
    head -c 300
  echo

  local call=(curl -sS --max-time 10 --unix-socket "$SOCKET"
    http://localhost/version)
  fsbx run --force-sandbox --engine "$engine" -- "${call[@]}"
  if [ "$RC" -eq 0 ] && grep -q '"ApiVersion"' /tmp/fsbx-out; then
    result "$id-allow" PASS "default policy: GET /version through the socket answered ($(grep -o '"ApiVersion":"[^"]*"' /tmp/fsbx-out))"
  else
    result "$id-allow" FAIL "default policy: exit $RC, no API answer: $(tail -n 1 /tmp/fsbx-err | cut -c1-160)"
  fi

  # A policy that names no Unix socket at all.
  cat >/tmp/no-socket.yml <<'EOF'
network:
  unix_sockets: []
  allow_all_unix_sockets: false
EOF
  fsbx run --force-sandbox --engine "$engine" --config /tmp/no-socket.yml \
    -- "${call[@]}"
  if [ "$RC" -ne 0 ] && ! grep -q '"ApiVersion"' /tmp/fsbx-out; then
    result "$id-deny" PASS "config without the socket: the call failed (exit $RC)"
  else
    result "$id-deny" FAIL "config without the socket: exit $RC, the daemon answered"
  fi
  leaks "$id-clean"
}
