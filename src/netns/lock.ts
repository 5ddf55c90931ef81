import { mkdir, rmdir, stat } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { SandboxError } from '../errors.js';

const RETRY_MS = 5;
const WAIT_MS = 5_000;
// A holder keeps the lock for a few file reads and writes; one older than
// this died while holding it.
const STALE_MS = 30_000;

/**
 * Runs `fn` while holding a lock shared by every run on this host: a
 * directory, because mkdir is atomic on every file system and needs no
 * native flock binding.
 */
export async function withLock<T>(
  lockDir: string,
  fn: () => Promise<T>,
): Promise<T> {
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    try {
      await mkdir(lockDir, { mode: 0o700 });
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const age = await stat(lockDir).then(
      (s) => Date.now() - s.mtimeMs,
      () => 0,
    );
    if (age > STALE_MS) {
      await rmdir(lockDir).catch(() => undefined);
      continue;
    }
    if (Date.now() > deadline) {
      throw new SandboxError(
        'APPLY_FAILED',
        `timed out waiting for the lock ${lockDir}; if no flow-sandbox run is active, remove it`,
      );
    }
    await sleep(RETRY_MS);
  }
  try {
    return await fn();
  } finally {
    await rmdir(lockDir).catch(() => undefined);
  }
}
