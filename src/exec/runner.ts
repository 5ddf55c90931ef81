import { spawn } from 'node:child_process';
import { SandboxError } from '../errors.js';

/** One finished helper command. */
export interface CommandResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  input?: string;
  /** When true, a non-zero exit is returned instead of thrown. */
  allowFailure?: boolean;
  env?: Record<string, string>;
  cwd?: string;
  timeoutMs?: number;
}

/** Runs helper commands (ip, nft, ...): swapped for a fake in unit tests. */
export interface CommandRunner {
  run(argv: readonly string[], options?: RunOptions): Promise<CommandResult>;
}

const STDERR_TAIL = 2000;

function failure(
  argv: readonly string[],
  result: CommandResult,
  why: string,
): SandboxError {
  return new SandboxError(
    'APPLY_FAILED',
    `${argv.join(' ')} failed with status ${result.exitCode}: ${why}`,
    {
      context: {
        argv,
        exitCode: result.exitCode,
        stderrTail: result.stderr.slice(-STDERR_TAIL),
      },
    },
  );
}

/**
 * The real runner: no shell, bounded time. Built on node:child_process
 * rather than execa because it sits on every run's start-up path, where
 * execa's import alone costs more than 100 ms.
 */
export function createCommandRunner(): CommandRunner {
  return {
    run(argv, options = {}) {
      const [file, ...args] = argv;
      if (!file) throw new SandboxError('INTERNAL', 'empty argv');
      return new Promise((resolve, reject) => {
        const child = spawn(file, args, {
          env: options.env ?? process.env,
          cwd: options.cwd,
          stdio: ['pipe', 'pipe', 'pipe'],
          timeout: options.timeoutMs ?? 30_000,
          killSignal: 'SIGKILL',
        });
        const out: Buffer[] = [];
        const err: Buffer[] = [];
        child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
        child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
        child.stdin.on('error', () => undefined);
        child.stdin.end(options.input ?? '');
        child.on('error', (error) =>
          reject(
            new SandboxError(
              'APPLY_FAILED',
              `${file} could not be started: ${error.message}`,
              { cause: error, context: { argv } },
            ),
          ),
        );
        child.on('close', (code, signal) => {
          const result: CommandResult = {
            exitCode: code ?? 128,
            stdout: Buffer.concat(out).toString(),
            stderr: Buffer.concat(err).toString(),
          };
          if (result.exitCode === 0 || options.allowFailure)
            return resolve(result);
          const why = signal
            ? `killed by ${signal}`
            : result.stderr.trim().slice(-STDERR_TAIL);
          reject(failure(argv, result, why));
        });
      });
    },
  };
}

/** Set in the environment of a run's helper commands: the run's id. */
export const HELPER_VARIABLE = 'FLOW_SANDBOX_HELPER_OF';

/**
 * A runner whose helper commands (those started with the controller's
 * environment) carry the run id, so that the cleanup of a killed run can
 * stop one that is still at work (an `nft -f` that would add a table after
 * the cleanup looked) before it removes what the run recorded.
 */
export function tagHelpers(exec: CommandRunner, runId: string): CommandRunner {
  return {
    run(argv, options = {}) {
      if (options.env) return exec.run(argv, options);
      return exec.run(argv, {
        ...options,
        env: { ...process.env, [HELPER_VARIABLE]: runId } as Record<
          string,
          string
        >,
      });
    },
  };
}
