// Gives each file of the writable paths that is also linked from outside
// them (src/policy/links.ts) a copy of its own, before the command starts:
// the checkout keeps the same names, content, owner, mode and times, and a
// write inside the sandbox can no longer change the file elsewhere.
//
// The controller is root and the directories are not its own (/tmp is
// everyone's): whoever can write one may swap a directory for a symlink
// while the copy is made. So every step goes through directories opened
// one component at a time below their writable path without following a
// symlink (O_NOFOLLOW), and names are used only inside those open
// directories (/proc/self/fd/N/NAME), never as paths from the root. The
// copy is made root-only (0600) and takes the file's owner before its
// mode: never a root-owned setuid file, not even for a moment.
import { constants } from 'node:fs';
import {
  link,
  lstat,
  open,
  rename,
  unlink,
  type FileHandle,
} from 'node:fs/promises';
import path from 'node:path';
import { describeError, SandboxError } from '../errors.js';
import { at, openBelow } from '../state/nofollow.js';
import type { LinkedFile } from '../policy/links.js';

const { O_RDONLY, O_WRONLY, O_CREAT, O_EXCL, O_NOFOLLOW } = constants;
const O_NONBLOCK = constants.O_NONBLOCK;

/** The temporary name a copy is made under, beside the file it replaces. */
export function copyTempName(file: string, runId: string, n: number): string {
  return path.join(path.dirname(file), `.fsbx-copy-${runId}-${n}`);
}

/** The temporary names `copyLinkedFiles` may leave if killed half way. */
export function copyTempNames(files: LinkedFile[], runId: string): string[] {
  return files.flatMap((f) => f.paths).map((p, n) => copyTempName(p, runId, n));
}

async function copyContent(from: FileHandle, to: FileHandle): Promise<void> {
  const buffer = Buffer.allocUnsafe(1 << 20);
  let position = 0;
  for (;;) {
    const { bytesRead } = await from.read(buffer, 0, buffer.length, position);
    if (bytesRead === 0) return;
    let written = 0;
    while (written < bytesRead) {
      const { bytesWritten } = await to.write(
        buffer,
        written,
        bytesRead - written,
        position + written,
      );
      written += bytesWritten;
    }
    position += bytesRead;
  }
}

interface Names {
  path: string;
  dir: FileHandle;
  name: string;
  temp: string;
}

// `n`: the position of the file's first name among every file's names.
async function copyOne(
  file: LinkedFile,
  runId: string,
  n: number,
): Promise<boolean> {
  const names: Names[] = [];
  try {
    for (const [i, p] of file.paths.entries()) {
      names.push({
        path: p,
        dir: await openBelow(file.roots[i]!, file.rootIds[i]!, path.dirname(p)),
        name: path.basename(p),
        temp: path.basename(copyTempName(p, runId, n + i)),
      });
    }
    return await copyInto(file, names);
  } finally {
    for (const { dir } of names) await dir.close();
  }
}

async function copyInto(file: LinkedFile, names: Names[]): Promise<boolean> {
  const [first, ...others] = names;
  const source = await open(
    at(first!.dir, first!.name),
    O_RDONLY | O_NOFOLLOW | O_NONBLOCK,
  ).catch((error: NodeJS.ErrnoException) => {
    // Gone since the search: nothing left to share.
    if (error.code === 'ENOENT') return undefined;
    throw error;
  });
  if (!source) return false;
  let made: FileHandle | undefined;
  try {
    const stat = await source.stat();
    if (stat.isFile() && stat.nlink === 1) return false;
    if (!stat.isFile() || `${stat.dev}:${stat.ino}` !== file.inode)
      throw new Error(
        `${file.paths[0]} changed while the run was being prepared`,
      );
    made = await open(
      at(first!.dir, first!.temp),
      O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW,
      0o600,
    );
    await copyContent(source, made);
    await made.chown(stat.uid, stat.gid);
    await made.chmod(stat.mode & 0o7777);
    await made.utimes(stat.atime, stat.mtime);
    const copy = await made.stat();
    await rename(at(first!.dir, first!.temp), at(first!.dir, first!.name));
    // The file's other names in the writable paths stay one file with it,
    // each checked to be the file that was searched before it is replaced.
    for (const other of others) {
      const current = await lstat(at(other.dir, other.name));
      if (`${current.dev}:${current.ino}` !== file.inode)
        throw new Error(
          `${other.path} changed while the run was being prepared`,
        );
      await link(at(first!.dir, first!.name), at(other.dir, other.temp));
      const linked = await open(
        at(other.dir, other.temp),
        O_RDONLY | O_NOFOLLOW | O_NONBLOCK,
      );
      const same = await linked
        .stat()
        .then((s) => s.dev === copy.dev && s.ino === copy.ino)
        .finally(() => linked.close());
      if (!same)
        throw new Error(`${file.paths[0]} was replaced while it was copied`);
      await rename(at(other.dir, other.temp), at(other.dir, other.name));
    }
    return true;
  } catch (error) {
    // unlink, never a recursive removal: the name may have become a
    // directory of someone else's.
    for (const { dir, temp } of names)
      await unlink(at(dir, temp)).catch(() => undefined);
    throw error;
  } finally {
    await source.close();
    await made?.close();
  }
}

/**
 * Copies every file in `files`; returns how many were copied. A file that
 * cannot be copied stops the run (APPLY_FAILED): its other name would
 * stay writable from inside the sandbox.
 */
export async function copyLinkedFiles(
  files: LinkedFile[],
  runId: string,
): Promise<number> {
  let copied = 0;
  let n = 0;
  for (const file of files) {
    try {
      if (await copyOne(file, runId, n)) copied++;
      n += file.paths.length;
    } catch (error) {
      throw new SandboxError(
        'APPLY_FAILED',
        `${file.paths[0]} is also linked from outside the writable paths and could not be given a copy of its own: ${describeError(error)}`,
        { cause: error, context: { step: 'copy linked files' } },
      );
    }
  }
  return copied;
}
