import { rename, writeFile } from 'node:fs/promises';

/**
 * Writes a file whole or not at all: FILE.tmp, renamed into place. A
 * controller killed mid-write, or a reader racing the writer (another
 * run's cleanup reading an owner record), never sees half a file. One
 * writer per file (its run, or the holder of a lock): the temporary name
 * is fixed, so a leftover one is overwritten by the next write.
 */
export async function writeAtomic(
  file: string,
  text: string,
  mode = 0o600,
): Promise<void> {
  const temp = `${file}.tmp`;
  await writeFile(temp, text, { mode });
  await rename(temp, file);
}
