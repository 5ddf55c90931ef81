import { lstat, realpath, rm } from 'node:fs/promises';
import path from 'node:path';

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
    const parent = path.dirname(p);
    if ((await realpath(parent).catch(() => undefined)) !== parent) {
      redirected.push(p);
      continue;
    }
    await rm(p, { recursive: true, force: true });
    removed.push(p);
  }
  return { removed, redirected };
}
