import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { isScalar, isSeq, parseDocument } from 'yaml';
import { SandboxError } from '../errors.js';
import { parseNetworkEntry } from './entries.js';
import type { NetworkRule } from './types.js';

/** The recommended allowlist shipped with flow-sandbox (dist/src/policy → repo root). */
export const RECOMMENDED_FILE = fileURLToPath(
  new URL('../../../data/recommended-allowlist.yml', import.meta.url),
);

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
  file = RECOMMENDED_FILE,
): Promise<NetworkRule[]> {
  const text = await readFile(file, 'utf8').catch((error: Error) => {
    throw broken(file, `cannot be read (${error.message})`);
  });
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
