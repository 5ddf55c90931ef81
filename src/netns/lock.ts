import { createHash } from 'node:crypto';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { SandboxError } from '../errors.js';

const RETRY_MS = 5;
const WAIT_MS = 5_000;

/** The abstract socket name of a lock: in no file system, so never left behind. */
function lockName(lockPath: string): string {
  const hash = createHash('sha256').update(lockPath).digest('hex');
  return `\0flow-sandbox-lock-${hash.slice(0, 32)}`;
}

// Resolves with the bound server, or undefined while another process holds it.
function bind(name: string): Promise<net.Server | undefined> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EADDRINUSE') resolve(undefined);
      else reject(error);
    });
    server.listen({ path: name, exclusive: true }, () => resolve(server));
  });
}

/**
 * Runs `fn` while holding a lock shared by every run on this host. The lock
 * is an abstract Unix socket named after `lockPath`: binding it is atomic,
 * and the kernel releases it when its holder dies, even by SIGKILL, so a
 * controller killed while holding it blocks no later run and leaves
 * nothing to clean up. Abstract names belong to a network namespace: runs
 * that share a pool share the runner's namespace, whose forwarding
 * settings are what the lock guards.
 */
export async function withLock<T>(
  lockPath: string,
  fn: () => Promise<T>,
): Promise<T> {
  const name = lockName(lockPath);
  const deadline = Date.now() + WAIT_MS;
  let bound: net.Server | undefined;
  while (!(bound = await bind(name))) {
    if (Date.now() > deadline) {
      throw new SandboxError(
        'APPLY_FAILED',
        `timed out after ${WAIT_MS} ms waiting for another run's lock on ${lockPath}`,
      );
    }
    await sleep(RETRY_MS);
  }
  const server = bound;
  try {
    return await fn();
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
