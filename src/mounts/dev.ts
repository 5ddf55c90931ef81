import { mkdir, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';

/**
 * The device nodes the sandbox gets, when the runner has them. Everything
 * else in /dev stays out: root without capabilities may still read a
 * root-owned disk node (/dev/vda, /dev/loop0) and so every hidden file.
 */
export const DEV_NODES = [
  'null',
  'zero',
  'full',
  'random',
  'urandom',
  'tty',
  'ptmx',
];

const DEV_LINKS: Record<string, string> = {
  fd: '/proc/self/fd',
  stdin: '/proc/self/fd/0',
  stdout: '/proc/self/fd/1',
  stderr: '/proc/self/fd/2',
};

/**
 * Builds the staging tree the minimal /dev is mounted from: empty files
 * to bind the device nodes onto, directories for pts and shm, and the
 * usual links. The init script binds the nodes in and moves the tree to
 * /dev, all inside the sandbox's mount namespace.
 */
export async function prepareDevStaging(
  staging: string,
  nodes: string[],
): Promise<void> {
  await mkdir(staging, { recursive: true, mode: 0o755 });
  await Promise.all([
    ...nodes.map((node) =>
      writeFile(path.join(staging, node), '', { mode: 0o644 }),
    ),
    mkdir(path.join(staging, 'pts'), { mode: 0o755 }),
    mkdir(path.join(staging, 'shm'), { mode: 0o1777 }),
    ...Object.entries(DEV_LINKS).map(([name, target]) =>
      symlink(target, path.join(staging, name)),
    ),
  ]);
}
