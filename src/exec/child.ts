import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import type { ApplyControls } from '../engines/types.js';

/** How long a command gets after SIGTERM before it is killed. */
export const KILL_GRACE_MS = 3000;

export interface ChildSpec {
  file: string;
  args: string[];
  cwd: string;
  env: Record<string, string>;
}

/** Exit status a shell would report: the code, or 128 + the signal number. */
export function statusOf(
  code: number | null,
  signal: NodeJS.Signals | null,
): number {
  if (code !== null) return code;
  const number = signal ? constants.signals[signal] : undefined;
  return 128 + (number ?? 1);
}

/**
 * Runs the job's command with the controller's stdio, so its output passes
 * through untouched. An abort passes the controller's signal on, then kills
 * the whole process group after a grace period.
 */
export function runChild(
  spec: ChildSpec,
  controls: ApplyControls,
): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(spec.file, spec.args, {
      cwd: spec.cwd,
      env: spec.env,
      stdio: 'inherit',
      detached: true,
    });
    let killTimer: NodeJS.Timeout | undefined;
    const signalGroup = (signal: NodeJS.Signals) => {
      if (child.pid === undefined) return;
      try {
        process.kill(-child.pid, signal);
      } catch {
        // The group is already gone.
      }
    };
    const onAbort = () => {
      signalGroup(controls.abortSignal() ?? 'SIGTERM');
      killTimer = setTimeout(() => signalGroup('SIGKILL'), KILL_GRACE_MS);
    };
    controls.abort.addEventListener('abort', onAbort, { once: true });
    if (controls.abort.aborted) onAbort();
    child.on('error', (error) => {
      controls.abort.removeEventListener('abort', onAbort);
      reject(error);
    });
    child.on('exit', (code, signal) => {
      controls.abort.removeEventListener('abort', onAbort);
      if (killTimer) clearTimeout(killTimer);
      resolve(statusOf(code, signal));
    });
  });
}

/** POSIX shell quoting for one argument. */
export function shellQuote(arg: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(arg)
    ? arg
    : `'${arg.replace(/'/g, `'\\''`)}'`;
}
