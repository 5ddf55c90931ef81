import path from 'node:path';
import { writeAtomic } from './atomic.js';

/** Written by every run into its state directory: who owns it. */
export interface OwnerRecord {
  runId: string;
  pid: number;
  startedAt: string;
  /** Files outside the state directory the run made (SRT's temp directory). */
  files?: string[];
  /** Paths where the sandbox may leave empty placeholders (see removePlaceholders). */
  placeholders?: string[];
  /** Protected paths absent at start: what is there after a killed run goes (removeCreated). */
  created?: string[];
  /** Temporary names of linked-file copies (src/mounts/copies.ts): unlinked, never removed recursively. */
  copies?: string[];
}

export const OWNER_FILE = 'owner.json';

/**
 * Writes (or rewrites) the run's owner record, with the files to remove if
 * it dies. Written before those files exist: a run killed right after
 * making one has already said where it is.
 */
export async function writeOwner(
  stateDir: string,
  runId: string,
  files: string[] = [],
  placeholders: string[] = [],
  created: string[] = [],
  copies: string[] = [],
): Promise<void> {
  const record: OwnerRecord = {
    runId,
    pid: process.pid,
    startedAt: new Date().toISOString(),
    files,
    ...(placeholders.length ? { placeholders } : {}),
    ...(created.length ? { created } : {}),
    ...(copies.length ? { copies } : {}),
  };
  await writeAtomic(
    path.join(stateDir, OWNER_FILE),
    `${JSON.stringify(record)}\n`,
  );
}
