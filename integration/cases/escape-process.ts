// Escape cases, processes and devices: the runner's processes (environ,
// root, signals, ptrace), namespaces, Unix sockets, the terminal, devices,
// and processes that outlive the run.
import { MARKERS, type EscapeCase } from './escape-types.js';

const probe = (args: string) =>
  `need python3\nverdict python3 "$PROBES/escape_probe.py" ${args}`;

const OUTSIDE_RUNNER =
  "the runner's processes are outside the sandbox: invisible, and out of reach of signals and ptrace";

export const ESCAPE_PROCESS_CASES: readonly EscapeCase[] = [
  {
    id: 'esc-proc-environ-leak',
    description:
      "no visible process shows flow-sandbox's settings (FLOW_SANDBOX_*) or the runner's canary variable in environ or cmdline",
    expected: 'refused',
    why: "the controller's settings and the runner's environment must not leak into the sandbox",
    script: probe(`env-scan FLOW_SANDBOX_ ${MARKERS.canary}`),
  },
  {
    id: 'esc-proc-runner-root',
    description:
      "the key through /proc/<pid>/root of a runner process (the runner's services)",
    expected: 'refused',
    why: OUTSIDE_RUNNER,
    script: probe(
      `proc root ${MARKERS.services} "$HOME/.ssh/id_rsa" FSBXT-SECRET`,
    ),
  },
  {
    id: 'esc-proc-runner-environ',
    description: "a runner process's environment (/proc/<pid>/environ)",
    expected: 'refused',
    why: OUTSIDE_RUNNER,
    script: probe(`proc environ ${MARKERS.services} ${MARKERS.canary}`),
  },
  {
    id: 'esc-proc-signal',
    description:
      'a signal to a runner process or to the flow-sandbox controller',
    expected: 'refused',
    why: OUTSIDE_RUNNER,
    script: [
      'need python3',
      'p="$PROBES/escape_probe.py"',
      `verdict eval 'python3 "$p" proc signal ${MARKERS.services} || python3 "$p" proc signal ${MARKERS.controller}'`,
    ].join('\n'),
  },
  {
    id: 'esc-proc-ptrace',
    description:
      'ptrace (PTRACE_SEIZE) of a runner process or of the flow-sandbox controller',
    expected: 'refused',
    why: OUTSIDE_RUNNER,
    script: [
      'need python3',
      'p="$PROBES/escape_probe.py"',
      `verdict eval 'python3 "$p" proc ptrace ${MARKERS.services} || python3 "$p" proc ptrace ${MARKERS.controller}'`,
    ].join('\n'),
  },
  {
    id: 'esc-ns-enter',
    description:
      "nsenter into the runner's network namespace (its /run/netns file, or a runner process's ns/net) to reach the outside host",
    expected: 'refused',
    why: "the command cannot join the runner's namespaces",
    script: [
      'need nsenter curl python3',
      'hit=1',
      `pids=$(python3 "$PROBES/escape_probe.py" proc pids ${MARKERS.services} 2>/dev/null)`,
      'for ns in "$FSBXT_RUNNER_NETNS" $(for p in $pids; do echo /proc/$p/ns/net; done); do',
      '  direct nsenter --net="$ns" curl -s --max-time 4 http://198.18.0.20/ 2>/dev/null | grep -qx fsbxt-host=outside && hit=0',
      'done',
      'verdict test "$hit" -eq 0',
    ].join('\n'),
  },
  {
    id: 'esc-unix-socket-runner',
    description:
      'a Unix socket of a runner service, at a path the policy does not list',
    expected: 'refused',
    why: 'only the listed Unix sockets (by default the Docker socket) are reachable',
    script: probe('unix "$FSBXT_RUNNER_SOCKET"'),
  },
  {
    id: 'esc-unix-socket-docker-name',
    description:
      'a socket named docker.sock at another path than /var/run/docker.sock',
    expected: 'refused',
    why: 'a Unix socket rule is a path, not a file name',
    script: probe('unix "$FSBXT_DOCKER_LIKE_SOCKET"'),
  },
  {
    id: 'esc-unix-socket-abstract',
    description: "an abstract Unix socket in the runner's network namespace",
    expected: 'refused',
    why: "abstract sockets belong to a network namespace: the runner's is not the sandbox's",
    script: probe('abstract "$FSBXT_RUNNER_ABSTRACT"'),
  },
  {
    id: 'esc-ssh-agent',
    description:
      "the runner's ssh-agent (SSH_AUTH_SOCK) lists, and would sign with, the runner's key",
    expected: 'refused',
    why: '~/.ssh is hidden so the runner’s SSH identity cannot be used: its agent is that identity',
    script: [
      'need ssh-add',
      `verdict eval 'ssh-add -L 2>/dev/null | grep -q fsbxt-agent'`,
    ].join('\n'),
    // flow-sandbox drops SSH_AUTH_SOCK from a sandboxed command's
    // environment, and masks the agent's socket like every unlisted one.
  },
  {
    id: 'esc-tty-tiocsti',
    description:
      "characters pushed into the controlling terminal's input (TIOCSTI), under a pseudo-terminal",
    expected: 'refused',
    tty: true,
    why: 'typed-ahead input would run as commands in the job’s shell after the sandbox exits',
    script: probe('tiocsti'),
  },
  {
    id: 'esc-dev-host',
    description:
      'host devices (the root block device, /dev/mem, /dev/kmsg, the console memory /dev/vcs*), opened from /dev or made with mknod',
    expected: 'refused',
    why: 'raw disk, memory or console access bypasses every path rule and shows the host',
    containerRefuses:
      "Docker's device cgroup lets a container open only its default devices (null, zero, random, tty, ...), whatever its capabilities: the disk, /dev/mem, /dev/kmsg and /dev/vcs* do not open even without a sandbox",
    script: [
      'mm=$(awk \'$5 == "/" { print $3; exit }\' /proc/self/mountinfo)',
      'blk=$(readlink -f "/sys/dev/block/$mm" 2>/dev/null); blk=/dev/${blk##*/}',
      'data() { [ "$(timeout 2 head -c 16 "$1" 2>/dev/null | wc -c)" -gt 0 ] && echo "read $1" >&2; }',
      'hit=1',
      'for d in "$blk" /dev/mem /dev/kmsg /dev/vcs /dev/vcsa /dev/vcs1; do data "$d" && hit=0; done',
      'n=/tmp/fsbxt-dev.$$',
      // The root's block device, /dev/mem (1:1), /dev/vcs (7:0).
      'for spec in "b ${mm%:*} ${mm#*:}" "c 1 1" "c 7 0"; do',
      '  mknod "$n" $spec 2>/dev/null && { data "$n" && hit=0; rm -f "$n"; }',
      'done',
      'verdict test "$hit" -eq 0',
    ].join('\n'),
  },
  {
    id: 'esc-survivor-detached',
    description:
      'processes detached from the command (setsid, nohup, double fork) are still alive after the run',
    expected: 'refused',
    why: 'nothing started inside the sandbox may outlive the run',
    script: [
      `m=${MARKERS.survivor}`,
      'need python3',
      // One process each, with the marker in its argv.
      's="import time; time.sleep(300)"',
      'setsid python3 -c "$s" "$m-setsid" </dev/null >/dev/null 2>&1 &',
      'nohup python3 -c "$s" "$m-nohup" </dev/null >/dev/null 2>&1 &',
      '( ( exec python3 -c "$s" "$m-fork" </dev/null >/dev/null 2>&1 & ) & )',
      'sleep 1',
      'verdict true',
    ].join('\n'),
    after: { kind: 'process', marker: MARKERS.survivor },
  },
];
