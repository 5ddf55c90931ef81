import { fileURLToPath } from 'node:url';
import { execa } from 'execa';

/** The CLI entry point (dist/test/helpers → repo root). */
export const BIN = fileURLToPath(
  new URL('../../../bin/flow-sandbox', import.meta.url),
);

/** Runs `flow-sandbox ARGS` in `cwd` with only the given environment (plus PATH and HOME). */
export async function cli(
  cwd: string,
  args: string[],
  env: Record<string, string> = {},
  options: { prefix?: string[]; timeoutMs?: number } = {},
) {
  const argv = [...(options.prefix ?? []), BIN, ...args];
  const r = await execa(argv[0]!, argv.slice(1), {
    cwd,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '/root',
      ...env,
    },
    extendEnv: false,
    reject: false,
    timeout: options.timeoutMs ?? 60_000,
  });
  return {
    exitCode: r.exitCode,
    stdout: String(r.stdout),
    stderr: String(r.stderr),
  };
}
