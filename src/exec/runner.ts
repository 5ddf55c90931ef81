import { execa } from 'execa';
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
  timeoutMs?: number;
}

/** Runs helper commands (ip, nft, ...): swapped for a fake in unit tests. */
export interface CommandRunner {
  run(argv: readonly string[], options?: RunOptions): Promise<CommandResult>;
}

const STDERR_TAIL = 2000;

/** The real runner: execa, no shell, bounded time. */
export function createCommandRunner(): CommandRunner {
  return {
    async run(argv, options = {}) {
      const [file, ...args] = argv;
      if (!file) throw new SandboxError('INTERNAL', 'empty argv');
      const result = await execa(file, args, {
        input: options.input,
        env: options.env,
        reject: false,
        timeout: options.timeoutMs ?? 30_000,
        stripFinalNewline: false,
      });
      const exitCode = result.exitCode ?? 128;
      const out: CommandResult = {
        exitCode,
        stdout: String(result.stdout ?? ''),
        stderr: String(result.stderr ?? ''),
      };
      if (exitCode !== 0 && !options.allowFailure) {
        const why =
          result.failed && result.exitCode === undefined
            ? result.shortMessage
            : out.stderr.trim().slice(-STDERR_TAIL);
        throw new SandboxError(
          'APPLY_FAILED',
          `${argv.join(' ')} failed with status ${exitCode}: ${why}`,
          {
            context: {
              argv,
              exitCode,
              stderrTail: out.stderr.slice(-STDERR_TAIL),
            },
          },
        );
      }
      return out;
    },
  };
}
