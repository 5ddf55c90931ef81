# Cases 2 to 4, sourced by in-container.sh inside the job container (which
# provides result, section, fsbx, plan_engine, ran_with, have_cli,
# have_engine, leaks, WORK, SOCKET).

marker_state() { [ -e "$1" ] && echo written || echo absent; }

# Case 2, Docker's default capabilities: no engine can apply. Without a
# minimum level the command runs directly with a loud warning; with one it
# must not run at all (exit 125, no marker file).
case_unprivileged() {
  if ! have_cli; then
    for id in 2a 2b 2c; do result $id SKIP "the CLI is not on main yet"; done
    return
  fi

  rm -f "$WORK"/marker-*
  fsbx run --force-sandbox -- sh -c "echo ran > $WORK/marker-2a"
  local warn
  warn=$(grep -iE 'without a sandbox' /tmp/fsbx-err | head -n 1 | cut -c1-200)
  if [ "$RC" -eq 0 ] && [ -f "$WORK/marker-2a" ] && [ -n "$warn" ] &&
    [ "$(ran_with)" = none ]; then
    result 2a PASS "ran directly (exit 0, marker written, engine=none), warning: $warn"
  else
    result 2a FAIL "exit $RC, marker $(marker_state "$WORK/marker-2a"), engine=$(ran_with), warning: ${warn:-none}"
  fi

  local level id
  for level in srt kernel; do
    id=$([ $level = srt ] && echo 2b || echo 2c)
    if ! have_engine $level; then
      result $id SKIP "the $level engine (and level) is not on main yet"
      continue
    fi
    fsbx run --force-sandbox --minimum-level $level -- \
      sh -c "echo ran > $WORK/marker-$id"
    if [ "$RC" -eq 125 ] && [ ! -e "$WORK/marker-$id" ] &&
      grep -q 'code=LEVEL_NOT_MET' /tmp/fsbx-err; then
      result $id PASS "--minimum-level $level: exit 125 (LEVEL_NOT_MET), command not run (no marker): $(grep -o 'minimum sandbox level[^(]*' /tmp/fsbx-err | head -n 1)"
    else
      result $id FAIL "--minimum-level $level: exit $RC, marker $(marker_state "$WORK/marker-$id"): $(grep -m1 ERROR /tmp/fsbx-err | cut -c1-160)"
    fi
  done
  leaks 2-clean
}

# The engine `auto` picks: the dry run's JSON plan, then a real run, which
# must end with that engine (not a fallback).
auto_engine_case() {
  local id=$1 want=$2
  if ! have_cli; then
    result "$id" SKIP "the CLI is not on main yet"
    return
  fi
  if ! have_engine "$want"; then
    result "$id" SKIP "the $want engine is not on main yet"
    return
  fi

  fsbx run --force-sandbox --dry-run --json -- true
  local engine why
  engine=$(plan_engine </tmp/fsbx-out)
  why=$(grep -m1 -o 'engine: [a-z]*: .*' /tmp/fsbx-err | cut -c1-200)
  if [ "$RC" -ne 0 ]; then
    result "$id" FAIL "dry run exited $RC: $(tail -n 1 /tmp/fsbx-err | cut -c1-200)"
  elif [ "$engine" = "$want" ]; then
    result "$id" PASS "--dry-run --json: engine.chosen=$engine; log: $why"
  else
    result "$id" FAIL "--dry-run --json: engine.chosen=$engine, expected $want; log: $why"
  fi

  rm -f "$WORK/marker-$id"
  fsbx run --force-sandbox --log-level info -- \
    sh -c "echo ran > $WORK/marker-$id"
  local ran
  ran=$(ran_with)
  if [ "$RC" -eq 0 ] && [ -f "$WORK/marker-$id" ] && [ "$ran" = "$want" ]; then
    result "$id-run" PASS "real run: exit 0, marker written, command finished (engine=$ran)"
  else
    result "$id-run" FAIL "real run: exit $RC, marker $(marker_state "$WORK/marker-$id"), ran with engine=${ran:-?}: $(grep -m1 -E 'could not start|WITHOUT a sandbox' /tmp/fsbx-err | cut -c1-200)"
  fi
  leaks "$id-clean"
}

case_auto_kernel() { auto_engine_case "$1" kernel; }
case_auto_srt() { auto_engine_case "$1" srt; }

# Case 4: the Docker socket bind-mounted into the job container, and the
# host's docker client beside it (the runner image ships none). `docker
# version` must reach the daemon when the policy allows the socket (the
# default policy does) and fail when a policy file denies it
# (deny_unix_sockets). --minimum-level keeps the engine from falling back
# to none, where the call would succeed for the wrong reason; a deny
# verdict also needs the command to have run under the engine (not 125).
case_socket() {
  local engine=$1 id=$2
  if ! have_cli || ! have_engine "$engine"; then
    local why="the $engine engine is not on main yet"
    have_cli || why="the CLI is not on main yet"
    result "$id-allow" SKIP "$why"
    result "$id-deny" SKIP "$why"
    return
  fi
  [ -S "$SOCKET" ] || { result "$id-allow" FAIL "$SOCKET is not mounted"; return; }
  if ! command -v docker >/dev/null; then
    result "$id-allow" FAIL "no docker client in the container (the host's is bind-mounted)"
    return
  fi

  section "outside the sandbox"
  docker version --format 'client {{.Client.Version}}, server {{.Server.Version}}'

  local call=(docker version
    --format 'server {{.Server.Version}} API {{.Server.APIVersion}}')
  fsbx run --force-sandbox --engine "$engine" --minimum-level "$engine" \
    -- "${call[@]}"
  # Without a daemon, docker version still prints the line, with no version.
  if [ "$RC" -eq 0 ] && grep -q '^server [0-9]' /tmp/fsbx-out; then
    result "$id-allow" PASS "default policy: docker version reached the daemon ($(head -n 1 /tmp/fsbx-out), engine=$(ran_with))"
  else
    result "$id-allow" FAIL "default policy: exit $RC, no answer from the daemon: $(grep -m1 -iE 'ERROR|cannot connect|denied' /tmp/fsbx-err | cut -c1-200)"
  fi

  # A policy file that denies the socket the default policy allows.
  printf 'network:\n  deny_unix_sockets: [%s]\n' "$SOCKET" >/tmp/no-socket.yml
  local opts=(--force-sandbox --engine "$engine" --config /tmp/no-socket.yml)
  fsbx run "${opts[@]}" --dry-run --json -- true
  local allowed
  allowed=$(node -e '
    const j = JSON.parse(require("fs").readFileSync(0, "utf8"));
    const s = j.policy.network.unixSockets.map((r) => r.path);
    process.stdout.write(s.join(",") || "none");' </tmp/fsbx-out 2>/dev/null ||
    echo unparsable)
  fsbx run "${opts[@]}" --minimum-level "$engine" -- "${call[@]}"
  if [ "$RC" -ne 0 ] && [ "$RC" -ne 125 ] && ! grep -q '^server [0-9]' /tmp/fsbx-out &&
    [ "$(ran_with)" = "$engine" ]; then
    result "$id-deny" PASS "deny_unix_sockets [$SOCKET]: plan allows sockets: $allowed; docker version failed inside the sandbox (exit $RC: $(grep -v '^\[flow-sandbox\]' /tmp/fsbx-err | grep -m1 -iE 'cannot connect|denied|not permitted|refused' | cut -c1-160))"
  elif [ "$RC" -eq 125 ]; then
    result "$id-deny" FAIL "deny_unix_sockets: flow-sandbox refused (exit 125), the call never ran: $(grep -m1 ERROR /tmp/fsbx-err | cut -c1-200)"
  else
    result "$id-deny" FAIL "deny_unix_sockets: exit $RC, engine=$(ran_with), output: $(head -c 120 /tmp/fsbx-out); plan allows sockets: $allowed"
  fi
  leaks "$id-clean"
}
