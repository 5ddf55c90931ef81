import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

/**
 * Root of flow-sandbox's state: runtime-only, root-owned where possible,
 * and never /tmp, which the sandboxed command may write.
 */
export function stateRoot(env: Record<string, string | undefined>): string {
  if (env.FLOW_SANDBOX_STATE_DIR) return env.FLOW_SANDBOX_STATE_DIR;
  if (process.getuid?.() === 0) return '/run/flow-sandbox';
  if (env.XDG_RUNTIME_DIR)
    return path.join(env.XDG_RUNTIME_DIR, 'flow-sandbox');
  return path.join(os.homedir(), '.local', 'state', 'flow-sandbox');
}

/** A short run id: kernel object names are built from it (15-char limit). */
export function newRunId(): string {
  return randomBytes(4).toString('hex');
}

/** Creates the run's private state directory (0700). */
export async function createRunDir(
  root: string,
  runId: string,
): Promise<string> {
  await mkdir(root, { recursive: true, mode: 0o700 });
  const dir = path.join(root, runId);
  await mkdir(dir, { mode: 0o700 });
  return dir;
}

/**
 * Removes the run's state directory; safe to repeat. A directory whose
 * kernel record still lists objects (a teardown step failed) is kept: it
 * is what `flow-sandbox cleanup` needs to remove them later.
 */
export async function removeRunDir(dir: string): Promise<boolean> {
  try {
    const record = JSON.parse(
      await readFile(path.join(dir, 'kernel.json'), 'utf8'),
    ) as { objects?: unknown[] };
    if (record.objects?.length) return false;
  } catch {
    // No record, or an unreadable one: nothing left to clean up from it.
  }
  await rm(dir, { recursive: true, force: true });
  return true;
}
