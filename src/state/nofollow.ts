// Directories reached without following a symlink. The controller is
// root and works in directories others can write (the checkout, /tmp):
// whoever can write one may swap a directory on the way for a symlink, so
// such directories are opened one component at a time with O_NOFOLLOW and
// names are used only inside the open handle (/proc/self/fd/N/NAME).
import { constants } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { describeError } from '../errors.js';

const { O_RDONLY, O_NOFOLLOW, O_DIRECTORY } = constants;

/** A name inside an open directory, resolved through that directory only. */
export const at = (dir: FileHandle, name: string) =>
  `/proc/self/fd/${dir.fd}/${name}`;

/**
 * Opens `dir`, which lies under `root`, one component at a time below
 * `root` without following a symlink: the handle is the directory that is
 * really there, whatever is renamed or swapped afterwards.
 */
export async function openBelow(
  root: string,
  rootId: string,
  dir: string,
): Promise<FileHandle> {
  const rel = path.relative(root, dir);
  if (rel.startsWith('..') || path.isAbsolute(rel))
    throw new Error(`${dir} is not under ${root}`);
  // The root (a real path) must still be the directory that was searched.
  let handle = await open(root, O_RDONLY | O_DIRECTORY | O_NOFOLLOW).catch(
    (error: unknown) => {
      throw new Error(
        `${root} is no longer the directory that was searched (${describeError(error)})`,
      );
    },
  );
  const top = await handle.stat();
  if (`${top.dev}:${top.ino}` !== rootId) {
    await handle.close();
    throw new Error(`${root} is no longer the directory that was searched`);
  }
  for (const part of rel.split('/').filter(Boolean)) {
    try {
      const next = await open(
        at(handle, part),
        O_RDONLY | O_DIRECTORY | O_NOFOLLOW,
      );
      await handle.close();
      handle = next;
    } catch (error) {
      await handle.close();
      throw new Error(
        `${path.join(root, rel)}: ${part} is no longer a directory of its own (${describeError(error)})`,
      );
    }
  }
  return handle;
}
