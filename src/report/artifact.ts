// Files the controller writes for the operator after the run (--report,
// --audit-report). The controller is root, and the file is usually in the
// checkout, which the command may write: the command (or a symlink
// committed to the repository) could make the name, or a directory on the
// way, lead elsewhere, and a plain write as root follows it anywhere on the
// host. So the directory is checked and opened before the command starts,
// reached without a symlink, and kept open; after the run the file is made
// under a fresh name inside that open directory, never through a link, and
// renamed over the name: whatever the command left there is replaced,
// never written through.
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import {
  access,
  lstat,
  open,
  realpath,
  rename,
  stat,
  unlink,
  type FileHandle,
} from 'node:fs/promises';
import path from 'node:path';
import { describeError, invalidInput } from '../errors.js';
import { at, openBelow } from '../state/nofollow.js';

const { O_WRONLY, O_CREAT, O_EXCL, O_NOFOLLOW } = constants;

const ACCEPTED =
  'a new or regular file in an existing, writable directory, named by its real path (no symlink on the way)';

/** A file to write after the run: its directory is held open since the check. */
export interface Artifact {
  file: string;
  dir: FileHandle;
  name: string;
}

/**
 * Checks where FLAG's FILE goes and opens its directory, before anything
 * runs; a path that cannot be written safely is refused (exit 125).
 */
export async function openArtifact(
  flag: string,
  file: string,
): Promise<Artifact> {
  const refuse = (why: string) =>
    invalidInput('USAGE', flag, file, ACCEPTED, why);
  const absolute = path.resolve(file);
  const dirPath = path.dirname(absolute);
  const name = path.basename(absolute);
  if (absolute === dirPath) throw refuse('it names a directory');
  const real = await realpath(dirPath).catch(() => undefined);
  if (real === undefined) throw refuse(`${dirPath} does not exist`);
  if (real !== dirPath)
    throw refuse(
      `${dirPath} leads to ${real} through a symlink; give ${path.join(real, name)}`,
    );
  await access(dirPath, constants.W_OK).catch(() => {
    throw refuse(`${dirPath} is not writable`);
  });
  const top = await stat('/');
  const dir = await openBelow('/', `${top.dev}:${top.ino}`, dirPath).catch(
    (error: unknown) => {
      throw refuse(describeError(error));
    },
  );
  const present = await lstat(at(dir, name)).catch(() => undefined);
  if (present && !present.isFile()) {
    await dir.close();
    throw refuse(
      present.isSymbolicLink()
        ? 'it is a symlink'
        : present.isDirectory()
          ? 'it is a directory'
          : 'it is not a regular file',
    );
  }
  return { file, dir, name };
}

/**
 * Writes TEXT as the artifact: a new file (0644) in the directory opened
 * before the run, renamed over the name. Throws when it cannot (the name
 * became a directory, say); nothing is left under the temporary name.
 */
export async function writeArtifact(
  artifact: Artifact,
  text: string,
): Promise<void> {
  const { dir, name } = artifact;
  const temp = `.fsbx-artifact-${randomBytes(8).toString('hex')}`;
  const handle = await open(
    at(dir, temp),
    O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW,
    0o644,
  );
  try {
    try {
      await handle.writeFile(text);
    } finally {
      await handle.close();
    }
    await rename(at(dir, temp), at(dir, name));
  } catch (error) {
    await unlink(at(dir, temp)).catch(() => undefined);
    throw error;
  }
}

/** Closes the directories held for artifacts (also after a failed run). */
export async function closeArtifacts(
  artifacts: Array<Artifact | undefined>,
): Promise<void> {
  for (const a of artifacts) await a?.dir.close().catch(() => undefined);
}
