import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { SandboxError } from '../errors.js';
import { parseNetworkEntry } from './entries.js';
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
    `${file}: ${why}; expected allowed_domains: a list of entries, each with a comment; reinstall flow-sandbox`,
  );
}

/**
 * The recommended entries as rules of kind `recommended`. Each origin
 * carries the entry's comment and the project file that asked for it, so
 * the dry run says why a registry is reachable.
 */
export async function loadRecommended(
  requestedBy: string,
  file = recommendedFile(),
): Promise<NetworkRule[]> {
  const text = await readFile(file, 'utf8').catch((error: Error) => {
    throw broken(file, `cannot be read (${error.message})`);
  });
  // Loaded on first use, like every YAML read: most runs never need it.
  const loaded = await import('yaml');
  // A bundler may hand over the CommonJS build as the default export.
  const yaml =
    loaded.parseDocument === undefined
      ? (loaded as unknown as { default: typeof loaded }).default
      : loaded;
  const { isScalar, isSeq, parseDocument } = yaml;
  const doc = parseDocument(text, { uniqueKeys: true });
  if (doc.errors.length) throw broken(file, doc.errors[0]!.message);
  const list = doc.get('allowed_domains');
  if (!isSeq(list)) throw broken(file, 'allowed_domains is not a list');
  return list.items.map((item, i) => {
    if (!isScalar(item) || typeof item.value !== 'string' || !item.comment)
      throw broken(file, `entry ${i} is not a string with a comment`);
    const why = item.comment.trim();
    return parseNetworkEntry(item.value, `recommended allowlist[${i}]`, {
      kind: 'recommended',
      origin: `recommended allowlist (${why}), asked for by ${requestedBy}`,
    });
  });
}
