// Gives each file of the writable paths that is also linked from outside
// them (src/policy/links.ts) a copy of its own, before the command starts:
// the checkout keeps the same names, content, owner, mode and times, and a
// write inside the sandbox can no longer change the file elsewhere.
import { constants } from 'node:fs';
import {
  chmod,
  chown,
  copyFile,
  link,
  lstat,
  rename,
  rm,
  utimes,
} from 'node:fs/promises';
import path from 'node:path';
import { describeError, SandboxError } from '../errors.js';
import type { LinkedFile } from '../policy/links.js';

/** The temporary name a copy is made under, beside the file it replaces. */
export function copyTempName(file: string, runId: string, n: number): string {
  return path.join(path.dirname(file), `.fsbx-copy-${runId}-${n}`);
}

/** The temporary names `copyLinkedFiles` may leave if killed half way. */
export function copyTempNames(files: LinkedFile[], runId: string): string[] {
  return files.flatMap((f) => f.paths).map((p, n) => copyTempName(p, runId, n));
}

// `n`: the position of the file's first name among every file's names.
async function copyOne(
  file: LinkedFile,
  runId: string,
  n: number,
): Promise<boolean> {
  const [first, ...others] = file.paths;
  const stat = await lstat(first!).catch(() => undefined);
  // Gone, or replaced since the search by a file with one name: nothing shared.
  if (!stat || (stat.isFile() && stat.nlink === 1)) return false;
  if (!stat.isFile() || `${stat.dev}:${stat.ino}` !== file.inode)
    throw new Error(`${first} changed while the run was being prepared`);
  const temp = copyTempName(first!, runId, n);
  try {
    await copyFile(
      first!,
      temp,
      constants.COPYFILE_EXCL | constants.COPYFILE_FICLONE,
    );
    await chown(temp, stat.uid, stat.gid);
    await chmod(temp, stat.mode & 0o7777);
    await utimes(temp, stat.atime, stat.mtime);
    await rename(temp, first!);
    // The file's other names in the writable paths stay one file with it.
    for (const [j, other] of others.entries()) {
      const otherTemp = copyTempName(other, runId, n + j + 1);
      await link(first!, otherTemp);
      await rename(otherTemp, other);
    }
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
  return true;
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
