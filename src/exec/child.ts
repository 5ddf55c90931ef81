import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import type { ApplyControls } from '../engines/types.js';
import { inert } from '../log/logger.js';

/** How long a command gets after SIGTERM before it is killed. */
export const KILL_GRACE_MS = 3000;

export interface ChildSpec {
  file: string;
  args: string[];
  cwd: string;
  env: Record<string, string>;
  /**
   * When set, the child gets a pipe on fd 3 and must write to it once its
   * sandbox is up, before the job's command starts (see READY_PREAMBLE).
   */
  readyPipe?: boolean;
  /**
   * Called with the child's pid when it first says its sandbox is up;
   * what it returns, if anything, is called when the child has ended.
   */
  onReady?: (pid: number) => (() => void) | void;
}

/** How a child ended, and whether it said its sandbox was up. */
export interface ChildResult {
  status: number;
  ready: boolean;
}

/**
 * Shell preamble run inside a sandbox before the job's command: it tells
 * the controller the sandbox came up, then closes the pipe so the command
 * never holds a descriptor of the controller's. If the write fails, the
 * command is not run.
 */
export const READY_PREAMBLE = 'printf R >&3 || exit 125; exec 3>&-;';

/** Shell statuses for a command that cannot start: 127 missing, 126 not runnable. */
const SPAWN_STATUS: Record<string, number> = {
  ENOENT: 127,
  EACCES: 126,
  ELOOP: 126,
  ENOEXEC: 126,
  ENOTDIR: 127,
};

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
): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(spec.file, spec.args, {
      cwd: spec.cwd,
      env: spec.env,
      stdio: spec.readyPipe
        ? ['inherit', 'inherit', 'inherit', 'pipe']
        : 'inherit',
      detached: true,
    });
    let ready = false;
    let stopWatching: (() => void) | void;
    child.stdio[3]?.on('data', () => {
      if (!ready && child.pid !== undefined)
        stopWatching = spec.onReady?.(child.pid);
      ready = true;
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
    child.on('error', (error: NodeJS.ErrnoException) => {
      controls.abort.removeEventListener('abort', onAbort);
      const status = SPAWN_STATUS[error.code ?? ''];
      if (status === undefined) return reject(error);
      // What a shell would say and return: the job's own failure, not ours.
      process.stderr.write(
        `flow-sandbox: ${inert(spec.file)}: ${error.code === 'ENOENT' ? 'command not found' : `cannot run (${error.code})`}\n`,
      );
      resolve({ status, ready: false });
    });
    // 'close' rather than 'exit': it waits for the ready pipe to drain.
    child.on('close', (code, signal) => {
      controls.abort.removeEventListener('abort', onAbort);
      stopWatching?.();
      if (killTimer) clearTimeout(killTimer);
      resolve({ status: statusOf(code, signal), ready });
    });
  });
}

/** POSIX shell quoting for one argument. */
export function shellQuote(arg: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(arg)
    ? arg
    : `'${arg.replace(/'/g, `'\\''`)}'`;
}
