import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { SandboxError } from '../errors.js';
import { parseNetworkEntry } from './entries.js';
import { parseYamlText, yamlErrorLine } from './load.js';
import type { NetworkRule } from './types.js';

const RELATIVE = 'data/recommended-allowlist.yml';

/**
 * The recommended allowlist shipped with flow-sandbox, at the package root.
 * This module runs from dist/src/policy/ (tsc) or dist/bundle/ (esbuild),
 * so the root is two or three levels up: the first that has the file wins.
 */
export function recommendedFile(): string {
  const candidates = ['../../', '../../../'].map((up) =>
    fileURLToPath(new URL(`${up}${RELATIVE}`, import.meta.url)),
  );
  return candidates.find((file) => existsSync(file)) ?? candidates[1]!;
}

function broken(file: string, why: string): SandboxError {
  return new SandboxError(
    'INTERNAL',
    `${file}: ${why}; expected allowed_domains: a mapping of each entry to what it is for; reinstall flow-sandbox`,
  );
}

/**
 * The recommended entries as rules of kind `recommended`. Each origin
 * carries what the entry is for and the project file that asked for it, so
 * the dry run says why a registry is reachable.
 */
export async function loadRecommended(
  requestedBy: string,
  file = recommendedFile(),
): Promise<NetworkRule[]> {
  const text = await readFile(file, 'utf8').catch((error: Error) => {
    throw broken(file, `cannot be read (${error.message})`);
  });
  let list: unknown;
  try {
    list = ((await parseYamlText(text)) as { allowed_domains?: unknown } | null)
      ?.allowed_domains;
  } catch (error) {
    throw broken(file, yamlErrorLine(error));
  }
  if (!list || typeof list !== 'object' || Array.isArray(list))
    throw broken(file, 'allowed_domains is not a mapping');
  return Object.entries(list).map(([entry, why], i) => {
    if (typeof why !== 'string' || !why.trim())
      throw broken(file, `entry ${i} (${entry}) does not say what it is for`);
    return parseNetworkEntry(entry, `recommended allowlist[${i}]`, {
      kind: 'recommended',
      origin: `recommended allowlist (${why.trim()}), asked for by ${requestedBy}`,
    });
  });
}
