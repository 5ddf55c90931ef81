import { lstat, readdir, realpath, rm, rmdir, unlink } from 'node:fs/promises';
import path from 'node:path';

/** Whether every directory on the way to `p` is still the real one (no link). */
async function leadsWherePlanned(p: string): Promise<boolean> {
  const parent = path.dirname(p);
  return (await realpath(parent).catch(() => undefined)) === parent;
}

/** The paths that exist now, and those that do not (a link counts as there). */
export async function byExistence(
  paths: readonly string[],
): Promise<{ present: string[]; absent: string[] }> {
  const there = await Promise.all(
    paths.map(
      async (p) => (await lstat(p).catch(() => undefined)) !== undefined,
    ),
  );
  return {
    present: paths.filter((_, i) => there[i]),
    absent: paths.filter((_, i) => !there[i]),
  };
}

/**
 * Removes what the command created at paths that had to stay as they
 * were but did not exist when the run started (see resolveMounts'
 * `absent`). The command may have replaced a directory on the way with a
 * symlink (`.claude` pointing at `/etc`): then the path leads elsewhere,
 * and nothing there is touched. A path itself that is a symlink is
 * removed as a link, never followed. Returns what was removed, and what
 * was left because its directory was no longer the one planned.
 */
export async function removeCreated(
  paths: readonly string[],
): Promise<{ removed: string[]; redirected: string[] }> {
  const removed: string[] = [];
  const redirected: string[] = [];
  for (const p of paths) {
    if (!(await lstat(p).catch(() => undefined))) continue;
    if (!(await leadsWherePlanned(p))) {
      redirected.push(p);
      continue;
    }
    await rm(p, { recursive: true, force: true });
    removed.push(p);
  }
  return { removed, redirected };
}

/**
 * Removes the empty placeholders a sandbox made at paths that did not
 * exist (bubblewrap mounts over a file or directory it creates on the
 * host, and SRT removes them when its command ends; a killed run leaves
 * them). Only what is still empty goes, deepest first, and only where the
 * path still leads where planned: anything with content is left alone.
 */
export async function removePlaceholders(
  paths: readonly string[],
): Promise<string[]> {
  const removed: string[] = [];
  const deepestFirst = [...paths].sort((a, b) => b.length - a.length);
  for (const p of deepestFirst) {
    const stat = await lstat(p).catch(() => undefined);
    if (!stat) continue;
    if (!(await leadsWherePlanned(p))) continue;
    if (stat.isFile() && stat.size === 0) {
      await unlink(p).catch(() => undefined);
      removed.push(p);
    } else if (
      stat.isDirectory() &&
      (await readdir(p).catch(() => ['?'])).length === 0
    ) {
      await rmdir(p).catch(() => undefined);
      removed.push(p);
    }
  }
  return removed;
}

/** What the job log says after removeCreated. */
export function createdWarnings(result: {
  removed: string[];
  redirected: string[];
}): string[] {
  return [
    ...(result.removed.length
      ? [
          `the command created protected paths that did not exist when the run started; removed: ${result.removed.join(', ')}`,
        ]
      : []),
    ...(result.redirected.length
      ? [
          `the command created protected paths through a directory it replaced with a link; left alone, as they lead outside the working directory: ${result.redirected.join(', ')}`,
        ]
      : []),
  ];
}
