/**
 * The shell arguments that start SRT's wrapped command. `exec` makes
 * bubblewrap the controller's own child, so its --die-with-parent ties the
 * sandbox to the controller: a controller killed with SIGKILL takes every
 * process of the sandbox with it instead of leaving them running.
 */
export function shellArgs(wrapped: string): string[] {
  return ['-c', `exec ${wrapped}`];
}

/** Detaches the runner's namespace handles in a private mount namespace. */
const DETACH_NETNS = '"$1" -l /run/netns 2>/dev/null; shift; exec "$@"';

/**
 * How bubblewrap's wrapped command line starts: `/bin/sh -c "exec …"` in
 * an IPC namespace of its own (`unshare --ipc`: bubblewrap as SRT starts
 * it shares the runner's SysV shared memory, semaphores and queues) and a
 * private mount namespace in which the runner's /run/netns (kernel runs'
 * namespace handles) is detached: a kernel run that ends deletes its
 * handle's file, which unmounts the copy in every mount namespace, and a
 * copy vanishing under bubblewrap's recursive bind of / failed its start
 * ("Can't remount … /run/netns/fsbx…: No such file", seen with 20 runs at
 * once in a job container; the same race exists on a host). Where the
 * probe found /proc masked (see proc.ts), a fresh /proc is mounted there
 * first. Every step execs, so bubblewrap stays the controller's own child
 * (its --die-with-parent holds). unshare, mount and umount run by the
 * absolute paths the probe found, never from the job's PATH. A failed
 * /proc mount exits 125 before bubblewrap starts: the ready pipe then
 * shows nothing of the job ran.
 */
export function srtLaunch(
  wrapped: string,
  facts: Record<string, string>,
): { file: string; args: string[] } {
  const shell = shellArgs(wrapped);
  if (!facts.unshare) return { file: '/bin/sh', args: shell };
  if (!facts.umount) {
    return { file: facts.unshare, args: ['--ipc', '--', '/bin/sh', ...shell] };
  }
  const freshProc = facts.proc === 'private';
  return {
    file: facts.unshare,
    args: [
      '--mount',
      '--propagation',
      'private',
      '--ipc',
      '--',
      '/bin/sh',
      '-c',
      freshProc
        ? `"$1" -t proc -o nosuid,nodev,noexec proc /proc || exit 125; shift; ${DETACH_NETNS}`
        : DETACH_NETNS,
      'sh',
      ...(freshProc ? [facts.mount!] : []),
      facts.umount,
      '/bin/sh',
      ...shell,
    ],
  };
}
