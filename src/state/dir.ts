import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { writeOwner } from './owner.js';

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

/** A run's state directory name: its run id. */
export const RUN_DIR = /^[0-9a-f]{8}$/;

/**
 * A directory on its way in (`.new-`: being created) or out (`.clean-`:
 * a cleanup claimed it), named with the run id and the pid of the process
 * at work on it, so that one left by a killed process is known as such.
 */
export const TRANSIT_DIR = /^\.(new|clean)-([0-9a-f]{8})-(\d+)$/;

export function transitName(
  kind: 'new' | 'clean',
  runId: string,
  pid = process.pid,
): string {
  return `.${kind}-${runId}-${pid}`;
}

/**
 * Where SRT runs keep their temp directories (sockets, mount sources):
 * beside the state root, not in it, since the state root is hidden from
 * every sandbox and a run's own bridge sockets must stay reachable.
 */
export function srtTempRoot(stateRoot: string): string {
  return `${stateRoot}-srt`;
}

/**
 * Creates the run's private state directory (0700) with its owner record
 * already inside: it is built under a transit name and renamed into place,
 * so a run directory never exists without saying whose it is.
 */
export async function createRunDir(
  root: string,
  runId: string,
): Promise<string> {
  await mkdir(root, { recursive: true, mode: 0o700 });
  const dir = path.join(root, runId);
  const temp = path.join(root, transitName('new', runId));
  await mkdir(temp, { mode: 0o700 });
  try {
    await writeOwner(temp, runId);
    await rename(temp, dir);
  } catch (error) {
    await rm(temp, { recursive: true, force: true });
    throw error;
  }
  return dir;
}

/**
 * Removes the run's state directory; safe to repeat. A directory whose
 * kernel record still lists objects (a teardown step failed) is kept: it
 * is what `flow-sandbox cleanup` needs to remove them later. It is renamed
 * to a transit name first, so a controller killed half way through the
 * removal leaves a directory the next sweep knows to remove at once.
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
  const leaving = path.join(
    path.dirname(dir),
    transitName('clean', path.basename(dir)),
  );
  const renamed = await rename(dir, leaving).then(
    () => true,
    () => false,
  );
  await rm(renamed ? leaving : dir, { recursive: true, force: true });
  return true;
}
