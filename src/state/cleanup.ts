import { readdir, readFile, rename, rm, stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import type { Context } from '../context.js';
import type { KernelState } from '../engines/kernel/state.js';
import { STATE_FILE } from '../engines/kernel/state.js';
import { describeError } from '../errors.js';
import { removeCreated, removePlaceholders } from '../mounts/created.js';
import { RUN_DIR, TRANSIT_DIR, transitName } from './dir.js';
import { ownerAlive } from './liveness.js';
import { OWNER_FILE, type OwnerRecord } from './owner.js';
import { killHelpers, removeObject } from './remove.js';

/** What one cleanup pass did. */
export interface CleanupResult {
  removedRuns: string[];
  liveRuns: string[];
  failures: string[];
}

async function readJson<T>(file: string): Promise<T | undefined> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as T;
  } catch {
    return undefined;
  }
}

/** Removes a dead run's recorded objects and files; returns the failures. */
async function cleanRun(
  ctx: Context,
  runId: string,
  dir: string,
): Promise<string[]> {
  const owner = await readJson<OwnerRecord>(path.join(dir, OWNER_FILE));
  const kernel = await readJson<KernelState>(path.join(dir, STATE_FILE));
  const failures: string[] = [];
  await killHelpers(runId, owner?.files ?? []);
  // Newest first, as teardown does; forwarding last, since it is restored
  // only once no lease is left.
  const objects = [...(kernel?.objects ?? [])].reverse();
  const ordered = [
    ...objects.filter((o) => o.kind !== 'forwarding'),
    ...objects.filter((o) => o.kind === 'forwarding'),
  ];
  for (const object of ordered) {
    try {
      await removeObject(ctx, object);
    } catch (error) {
      failures.push(`${runId}: ${object.kind}: ${describeError(error)}`);
    }
  }
  await Promise.all(
    (owner?.files ?? []).map((f) => rm(f, { recursive: true, force: true })),
  );
  // A copy's temporary name sits in a directory others may write: only
  // ever unlinked, never removed recursively through what is there now.
  await Promise.all(
    (owner?.copies ?? []).map((f) => unlink(f).catch(() => undefined)),
  );
  await removePlaceholders(owner?.placeholders ?? []);
  await removeCreated(owner?.created ?? []);
  return failures;
}

/** Whether the run that owns a state directory is gone. */
async function abandoned(dir: string): Promise<boolean | undefined> {
  const owner = await readJson<OwnerRecord>(path.join(dir, OWNER_FILE));
  const who =
    owner ?? (await readJson<KernelState>(path.join(dir, STATE_FILE)));
  if (who) return !ownerAlive(who.pid, who.startedAt);
  // Run directories are created with their owner record inside; one
  // without is not flow-sandbox's doing, unless it is old and empty-handed.
  const info = await stat(dir).catch(() => undefined);
  if (!info) return undefined;
  return info.mtimeMs < Date.now() - 60_000;
}

/**
 * Takes a dead run's directory for this process by renaming it: of several
 * runs sweeping at once, exactly one cleans each dead run. Returns the new
 * path, or undefined when another process took it first.
 */
async function claim(root: string, name: string, runId: string) {
  const claimed = path.join(root, transitName('clean', runId));
  try {
    await rename(path.join(root, name), claimed);
    return claimed;
  } catch {
    return undefined;
  }
}

/** Cleans one entry of the state root; says what became of it. */
async function sweepEntry(
  ctx: Context,
  root: string,
  name: string,
): Promise<{ runId: string; live?: boolean; failures?: string[] } | undefined> {
  const transit = TRANSIT_DIR.exec(name);
  const runId = transit ? transit[2]! : name;
  if (transit) {
    // Being created or cleaned by a process: left alone while it lives.
    const info = await stat(path.join(root, name)).catch(() => undefined);
    if (!info) return undefined;
    // ctime: a rename (a cleanup's claim) sets it, unlike mtime.
    const pid = Number(transit[3]);
    if (ownerAlive(pid, new Date(info.ctimeMs).toISOString()))
      return { runId, live: true };
    // A directory half created never held anything but its owner record.
    if (transit[1] === 'new') {
      await rm(path.join(root, name), { recursive: true, force: true });
      return { runId, failures: [] };
    }
  } else {
    const dead = await abandoned(path.join(root, name));
    if (dead === undefined) return undefined;
    if (!dead) return { runId, live: true };
  }
  const dir = await claim(root, name, runId);
  if (!dir) return undefined;
  const failures = await cleanRun(ctx, runId, dir);
  if (failures.length === 0) {
    await rm(dir, { recursive: true, force: true });
  } else {
    // Back under its own name, for the next cleanup to try again.
    await rename(dir, path.join(root, runId)).catch(() => undefined);
  }
  return { runId, failures };
}

/**
 * Removes what runs whose controller is gone left behind: their recorded
 * kernel objects, helper processes, files and state. A live run's state is
 * never touched, so this is safe while other jobs run, and while other runs
 * sweep the same root.
 */
export async function cleanupDeadRuns(
  ctx: Context,
  root: string,
  except?: string,
): Promise<CleanupResult> {
  const result: CleanupResult = { removedRuns: [], liveRuns: [], failures: [] };
  const entries = await readdir(root, { withFileTypes: true }).catch(() => []);
  for (const entry of entries) {
    if (!entry.isDirectory() || entry.name === except) continue;
    if (!RUN_DIR.test(entry.name) && !TRANSIT_DIR.test(entry.name)) continue;
    const swept = await sweepEntry(ctx, root, entry.name);
    if (!swept) continue;
    if (swept.live) result.liveRuns.push(swept.runId);
    else if (swept.failures?.length) result.failures.push(...swept.failures);
    else result.removedRuns.push(swept.runId);
  }
  return result;
}
