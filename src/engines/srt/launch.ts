/**
 * The shell arguments that start SRT's wrapped command. `exec` makes
 * bubblewrap the controller's own child, so its --die-with-parent ties the
 * sandbox to the controller: a controller killed with SIGKILL takes every
 * process of the sandbox with it instead of leaving them running.
 */
export function shellArgs(wrapped: string): string[] {
  return ['-c', `exec ${wrapped}`];
}

/**
 * How bubblewrap's wrapped command line starts: `/bin/sh -c "exec …"` in
 * an IPC namespace of its own (`unshare --ipc`: bubblewrap as SRT starts
 * it shares the runner's SysV shared memory, semaphores and queues), and
 * under the private-/proc prefix where the probe found /proc masked (see
 * proc.ts). Every step execs, so bubblewrap stays the controller's own
 * child (its --die-with-parent holds). unshare and mount run by the
 * absolute paths the probe found, never from the job's PATH. A failed
 * mount exits 125 before bubblewrap starts: the ready pipe then shows
 * nothing of the job ran. The runner's /run/netns (kernel runs' namespace
 * handles) is detached there first: a kernel run that ends deletes its
 * handle's file, which unmounts the copy in every mount namespace, and a
 * copy vanishing under bubblewrap's recursive bind of / failed its start
 * (seen with 20 runs at once in a job container).
 */
export function srtLaunch(
  wrapped: string,
  facts: Record<string, string>,
): { file: string; args: string[] } {
  const shell = shellArgs(wrapped);
  if (!facts.unshare) return { file: '/bin/sh', args: shell };
  if (facts.proc !== 'private') {
    return { file: facts.unshare, args: ['--ipc', '--', '/bin/sh', ...shell] };
  }
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
      '"$1" -t proc -o nosuid,nodev,noexec proc /proc || exit 125; "$2" -l /run/netns 2>/dev/null; shift 2; exec "$@"',
      'sh',
      facts.mount!,
      facts.umount!,
      '/bin/sh',
      ...shell,
    ],
  };
}
