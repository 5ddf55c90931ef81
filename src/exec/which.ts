import { accessSync, constants, statSync } from 'node:fs';
import path from 'node:path';

/**
 * Finds an executable on PATH in-process. Probing runs on every job's
 * start-up path, where spawning `which` per binary costs milliseconds each.
 */
export function which(
  name: string,
  envPath: string | undefined,
): string | undefined {
  if (name.includes('/')) return isExecutable(name) ? name : undefined;
  for (const dir of (envPath ?? '').split(':')) {
    if (!dir) continue;
    const candidate = path.join(dir, name);
    if (isExecutable(candidate)) return candidate;
  }
  return undefined;
}

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return statSync(file).isFile();
  } catch {
    return false;
  }
}
