import { RESTORE_JOB_ENV } from '../exec/jobenv.js';

/** Absolute paths of the util-linux tools the launch uses (from the probe). */
export interface LaunchTools {
  setpriv: string;
  nsenter: string;
  unshare: string;
  mount: string;
  sh: string;
  env: string;
}

/** The file the init script writes the read-only list into, next to the planned fstab. */
export const READ_ONLY_FSTAB = '10-readonly.fstab';
export const VIEW_FSTAB = '20-view.fstab';
/** Socket masks: not `*.fstab`, so the main `mount --all` leaves them to their own. */
export const SOCKETS_TAB = 'sockets.tab';
/** Daemon sockets that must not be reachable once the masks are mounted. */
export const SOCKETS_CHECK = 'sockets.check';

/**
 * PID 1 of the sandbox: builds the view, then runs the command without
 * capabilities and passes signals on. Constant text: every value arrives as
 * an argument, so nothing from the policy or the command is ever parsed as
 * shell code.
 *
 * The mounts still writable are listed from this namespace's own mount
 * table, so one that appeared after the controller looked is not missed.
 * Namespace handles under /run/netns are left out of the read-only pass:
 * other runs create and delete them at any moment, and the command,
 * without capabilities, cannot enter a namespace through them anyway.
 * Other mounts can vanish during the pass too (a container stopping
 * removes its overlay's mount point, which detaches the copy in this
 * namespace), so mount's own status and messages are not the verdict:
 * the mount table is read again afterwards, and any mount still writable
 * stops the run. A detached mount is gone from the table, and from reach;
 * so is one covered by another mount on the same point (remount reaches
 * the top one only).
 * Socket masks are mounted apart, errors ignored: a socket may vanish
 * between the scan and the mount. The daemon sockets under /run are then
 * checked: one still a socket stops the run. Both lists are opened first,
 * as the main pass hides the state directory they live in.
 * fd 3 (when open) tells the controller the view is complete; a command
 * that never got that far is a sandbox failure, not its exit status.
 * A shell starts background commands with SIGINT and SIGQUIT ignored, and
 * the command could not undo that; env --default-signal restores them.
 * The job's loader variables (LD_PRELOAD, NODE_OPTIONS, ...) cross this
 * privileged chain under inert names (jobenv.ts) and are put back by a
 * shell that starts only after setpriv has dropped every capability.
 */
export const INIT_SCRIPT = `set -euf
fstabs=$1 cwd=$2 setpriv=$3 mount=$4 env=$5 sh=$6
shift 6
writable() {
  while read -r id _ _ _ point opts rest; do
    case ",$opts," in *,ro,*) continue ;; esac
    case "$point" in /|/proc|/proc/*|/run/netns/*) continue ;; esac
    case "$rest" in *" - nsfs "*) continue ;; esac
    printf '%s %s\\n' "$id" "$point"
  done </proc/self/mountinfo
}
covered() {
  while read -r _ above _ _ above_point _; do
    if [ "$above" = "$1" ] && [ "$above_point" = "$2" ]; then return 0; fi
  done </proc/self/mountinfo
  return 1
}
writable | while read -r _ point; do
  printf 'none %s none remount,bind,ro 0 0\\n' "$point"
done >"$fstabs/${READ_ONLY_FSTAB}"
exec 5<"$fstabs/${SOCKETS_TAB}" 6<"$fstabs/${SOCKETS_CHECK}"
"$mount" -o remount,bind,ro /
"$mount" --all --fstab "$fstabs/${READ_ONLY_FSTAB}" 2>/dev/null || :
left=$(writable | while read -r id point; do
  covered "$id" "$point" || printf '%s\\n' "$point"
done)
if [ -n "$left" ]; then
  printf 'flow-sandbox: could not make this mount read-only: %s\\n' $left >&2
  exit 125
fi
"$mount" --all --fstab "$fstabs/${VIEW_FSTAB}"
if [ -s /dev/fd/5 ]; then "$mount" --all --fstab /dev/fd/5 2>/dev/null || :; fi
while IFS= read -r socket <&6; do
  if [ -S "$socket" ]; then
    echo "flow-sandbox: $socket could not be hidden" >&2
    exit 125
  fi
done
exec 5<&- 6<&-
cd "$cwd"
{ echo ready >&3; } 2>/dev/null || :
exec 3>&- 4<&0
"$env" --default-signal=INT,QUIT "$setpriv" --no-new-privs --inh-caps=-all --bounding-set=-all -- "$sh" -c '${RESTORE_JOB_ENV} exec "$@"' fsbx-job "$@" <&4 4<&- &
child=$!
exec 4<&-
for sig in HUP INT QUIT TERM USR1 USR2; do
  trap "kill -$sig $child 2>/dev/null || :" "$sig"
done
status=0
wait "$child" || status=$?
while [ "$status" -gt 128 ] && kill -0 "$child" 2>/dev/null; do
  status=0
  wait "$child" || status=$?
done
exit "$status"
`;

/**
 * The argv that starts a command in the run's namespaces (pure):
 * setpriv ties the chain to the controller (killed with it), nsenter joins
 * the network namespace, unshare makes the mount, IPC (the runner's SysV
 * shared memory and queues) and PID namespaces, and
 * the init script does the rest.
 */
export function launchArgv(options: {
  tools: LaunchTools;
  netnsPath: string;
  fstabDir: string;
  cwd: string;
  argv: readonly string[];
}): string[] {
  const { tools, netnsPath, fstabDir, cwd, argv } = options;
  return [
    tools.setpriv,
    '--pdeathsig',
    'KILL',
    '--',
    tools.nsenter,
    `--net=${netnsPath}`,
    '--',
    tools.unshare,
    '--mount',
    '--propagation',
    'private',
    '--ipc',
    '--pid',
    '--fork',
    '--kill-child',
    '--',
    tools.sh,
    '-c',
    INIT_SCRIPT,
    'fsbx-init',
    fstabDir,
    cwd,
    tools.setpriv,
    tools.mount,
    tools.env,
    tools.sh,
    ...argv,
  ];
}
