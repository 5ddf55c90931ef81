import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { constants } from 'node:os';
import { SandboxError } from '../../errors.js';
import type { Logger } from '../../log/logger.js';
import type { ApplyControls } from '../types.js';

/** How the sandboxed command ended. */
export interface CommandEnd {
  exitCode: number;
  /** Set when the run was aborted (SIGINT, SIGTERM to the controller). */
  abortedBy?: NodeJS.Signals;
}

const signalNumber = (signal: NodeJS.Signals) =>
  constants.signals[signal] ?? 15;

// The launch chain (setpriv, nsenter, unshare) execs in place, so the
// spawned pid is unshare; its only child is the sandbox's PID 1, the init
// script. unshare itself blocks SIGINT and SIGTERM, so signals go to PID 1.
async function sandboxInit(launcherPid: number): Promise<number | undefined> {
  const children = await readFile(
    `/proc/${launcherPid}/task/${launcherPid}/children`,
    'utf8',
  ).catch(() => '');
  const pid = Number(children.trim().split(/\s+/)[0]);
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

function kill(pid: number | undefined, signal: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    process.kill(pid, signal);
  } catch {
    // Already gone.
  }
}

/**
 * Runs the launch argv and waits for the command. The init script reports
 * on fd 3 once the filesystem view is in place; an exit before that is a
 * sandbox failure (the command never ran), not the command's status.
 */
export function runSandboxed(options: {
  argv: string[];
  cwd: string;
  env: Record<string, string>;
  controls: ApplyControls;
  graceMs: number;
  log: Logger;
}): Promise<CommandEnd> {
  const { argv, cwd, env, controls, graceMs, log } = options;
  return new Promise<CommandEnd>((resolve, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), {
      cwd,
      env,
      stdio: ['inherit', 'inherit', 'inherit', 'pipe'],
    });
    let ready = false;
    let abortedBy: NodeJS.Signals | undefined;
    let killTimer: NodeJS.Timeout | undefined;
    child.stdio[3]!.on('data', (data: Buffer) => {
      if (data.toString().includes('ready')) ready = true;
    });
    child.stdio[3]!.on('error', () => undefined);

    const onAbort = () => {
      abortedBy = controls.abortSignal() ?? 'SIGTERM';
      if (!ready) {
        // Nothing of the command runs yet: end it all now.
        kill(child.pid, 'SIGKILL');
        return;
      }
      void sandboxInit(child.pid!).then((init) => {
        log.info('passing the signal to the sandboxed command', {
          signal: abortedBy,
          graceMs,
        });
        kill(init, abortedBy!);
        killTimer = setTimeout(() => {
          log.warn('the sandboxed command did not exit in time; killing it', {
            graceMs,
          });
          // Killing PID 1 ends every process in the sandbox's PID namespace.
          kill(init, 'SIGKILL');
          kill(child.pid, 'SIGKILL');
        }, graceMs);
      });
    };
    controls.abort.addEventListener('abort', onAbort, { once: true });
    if (controls.abort.aborted) onAbort();

    child.on('error', (error) => {
      controls.abort.removeEventListener('abort', onAbort);
      reject(
        new SandboxError(
          'APPLY_FAILED',
          `cannot start the sandbox launcher ${argv[0]}: ${error.message}`,
          { cause: error, context: { argv: argv.slice(0, 8) } },
        ),
      );
    });
    child.on('close', (code, signal) => {
      clearTimeout(killTimer);
      controls.abort.removeEventListener('abort', onAbort);
      if (abortedBy) {
        resolve({ exitCode: 128 + signalNumber(abortedBy), abortedBy });
      } else if (!ready) {
        reject(
          new SandboxError(
            'APPLY_FAILED',
            `the sandbox's filesystem view could not be set up (launcher exit ${code ?? signal}); see the mount errors above`,
            {
              context: { argv: argv.slice(0, 8), exitCode: code ?? undefined },
            },
          ),
        );
      } else {
        resolve({ exitCode: code ?? 128 + signalNumber(signal ?? 'SIGKILL') });
      }
    });
  });
}
