import { execa } from 'execa';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The built CLI, as a user runs it. */
export const BIN = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '../../../bin/flow-sandbox',
);

/** Runs the CLI with a clean, CI-free environment plus `env`. */
export async function cli(
  args: string[],
  env: Record<string, string> = {},
  cwd?: string,
) {
  return execa(BIN, args, {
    reject: false,
    cwd,
    extendEnv: false,
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: '/home/job',
      ...env,
    },
  });
}

/** A temporary directory removed when the test ends. */
export async function tempDir(t: {
  teardown(fn: () => Promise<void>): void;
}): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'fsbx-unit-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}
