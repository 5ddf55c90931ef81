import { lstat, readFile, realpath } from 'node:fs/promises';

/**
 * Paths of the Unix sockets bound in this network namespace, from
 * /proc/net/unix (the last field; abstract ones start with `@` and are the
 * namespace's own anyway). Sockets of the runner's services show here
 * wherever they live on disk, which no directory scan can promise.
 */
export function parseProcNetUnix(text: string): string[] {
  const paths = new Set<string>();
  for (const line of text.split('\n').slice(1)) {
    const fields = line.trim().split(/\s+/);
    const last = fields.length >= 8 ? fields[fields.length - 1]! : '';
    if (last.startsWith('/')) paths.add(last);
  }
  return [...paths].sort();
}

/**
 * The bound socket paths that still exist as sockets, with links resolved:
 * dockerd binds /var/run/docker.sock, which the policy's allowance and the
 * directory scan know as /run/docker.sock; compared unresolved, an allowed
 * socket was hidden.
 */
export async function boundSockets(file = '/proc/net/unix'): Promise<string[]> {
  const text = await readFile(file, 'utf8').catch(() => '');
  const checked = await Promise.all(
    parseProcNetUnix(text).map(async (p) =>
      (await lstat(p).catch(() => undefined))?.isSocket()
        ? realpath(p).catch(() => undefined)
        : undefined,
    ),
  );
  return [...new Set(checked.filter((p): p is string => !!p))];
}
