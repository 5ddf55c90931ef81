import { readFileSync } from 'node:fs';

/** Seconds since the epoch at which the kernel booted (from /proc/stat). */
function bootTime(): number {
  const line = readFileSync('/proc/stat', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('btime '));
  return Number(line?.split(' ')[1] ?? 0);
}

/**
 * The fields of /proc/PID/stat from the state (field 3) on, so field N is
 * at index N - 3; undefined once the process is gone. They are counted
 * after the command name, which may itself hold spaces and parentheses.
 */
export function statFields(pid: number): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/**
 * When a process started, in ms since the epoch, or undefined if it is
 * gone. A zombie is gone: it runs nothing, and what it held (its sandbox,
 * tied to it by the parent-death signal) went with it.
 */
export function processStart(pid: number): number | undefined {
  const fields = statFields(pid);
  if (!fields || fields[0] === 'Z' || fields[0] === 'X') return undefined;
  // Field 22: starttime, clock ticks since boot.
  const ticks = Number(fields[19]);
  // Linux reports in USER_HZ, 100 on every architecture Node runs on.
  return (bootTime() + ticks / 100) * 1000;
}

/**
 * Whether the controller that wrote a record still runs: the pid exists
 * and its process started no later than the record (a reused pid starts
 * after it). Two seconds of slack cover clock-tick rounding.
 */
export function ownerAlive(pid: number, recordedAt: string): boolean {
  const started = processStart(pid);
  if (started === undefined) return false;
  return started <= Date.parse(recordedAt) + 2000;
}
