// Other names of denied files. Engines hide a denied path by path (a mount
// over ~/.ssh); a hard link to a denied file elsewhere is the same file
// under a path no rule names, readable inside the sandbox. This step finds
// such links where the job reaches them (its checkout and its writable
// paths) and denies them too; links it cannot find are reported.
import type { Stats } from 'node:fs';
import { lstat, readdir } from 'node:fs/promises';
import path from 'node:path';
import type { PathRule, Policy } from './types.js';

/** Most entries one search visits, over every root together. */
export const LINK_SEARCH_LIMIT = 200_000;

/** What a search found: other names of denied files, and what it could not. */
export interface LinkSearch {
  aliases: { path: string; of: string }[];
  /** Denied files with links the search did not find (elsewhere on disk). */
  unaccounted: { file: string; links: number }[];
  truncated: boolean;
}

type Visit = (file: string, stat: Stats) => void;

// Depth-first, never following symlinks; skips `skip` subtrees.
async function walk(
  root: string,
  skip: (dir: string) => boolean,
  budget: { left: number },
  visit: Visit,
): Promise<void> {
  const stack = [root];
  while (stack.length > 0) {
    if (budget.left-- <= 0) return;
    const current = stack.pop()!;
    const stat = await lstat(current).catch(() => undefined);
    if (!stat) continue;
    visit(current, stat);
    if (!stat.isDirectory() || (current !== root && skip(current))) continue;
    const names = await readdir(current).catch(() => [] as string[]);
    for (const name of names) stack.push(path.join(current, name));
  }
}

const inodeKey = (s: Stats) => `${s.dev}:${s.ino}`;

/** Finds other names, under `roots`, of the multiply-linked files under `denied`. */
export async function findDeniedLinks(
  denied: readonly string[],
  roots: readonly string[],
  limit = LINK_SEARCH_LIMIT,
): Promise<LinkSearch> {
  const linked = new Map<string, { file: string; nlink: number }>();
  const budget = { left: limit };
  const isDenied = (p: string) =>
    denied.some((d) => p === d || p.startsWith(`${d}/`));
  for (const dir of denied) {
    await walk(
      dir,
      () => false,
      budget,
      (file, stat) => {
        if (stat.isFile() && stat.nlink > 1)
          linked.set(inodeKey(stat), { file, nlink: stat.nlink });
      },
    );
  }
  const result: LinkSearch = { aliases: [], unaccounted: [], truncated: false };
  if (linked.size === 0) return result;

  const seen = new Set<string>();
  const found = new Map<string, number>();
  for (const root of roots) {
    await walk(root, isDenied, budget, (file, stat) => {
      const hit = linked.get(inodeKey(stat));
      if (!hit || !stat.isFile() || isDenied(file) || seen.has(file)) return;
      seen.add(file);
      result.aliases.push({ path: file, of: hit.file });
      found.set(hit.file, (found.get(hit.file) ?? 0) + 1);
    });
  }
  result.truncated = budget.left <= 0;
  for (const { file, nlink } of linked.values()) {
    const missing = nlink - 1 - (found.get(file) ?? 0);
    if (missing > 0) result.unaccounted.push({ file, links: missing });
  }
  return result;
}

/**
 * The policy with every found link of a denied file denied for reading
 * and writing as well, and warnings for what the search could not cover.
 */
export async function denyLinkAliases(
  policy: Policy,
  cwd: string,
): Promise<{ policy: Policy; warnings: string[] }> {
  const { filesystem } = policy;
  const roots = [
    ...new Set([cwd, ...filesystem.allowWrite.map((r) => r.path)]),
  ];
  const search = await findDeniedLinks(
    filesystem.denyRead.map((r) => r.path),
    roots,
  );
  const rules: PathRule[] = search.aliases.map((a) => ({
    path: a.path,
    raw: a.path,
    source: { kind: 'default', origin: `hard link of ${a.of}` },
  }));
  const warnings = search.unaccounted.map(
    (u) =>
      `${u.file} has ${u.links} other hard link(s) outside ${roots.join(', ')}: under those names it stays readable inside the sandbox; remove the extra links`,
  );
  if (search.truncated)
    warnings.push(
      `the search for hard links of denied files stopped after ${LINK_SEARCH_LIMIT} entries: links further down ${roots.join(', ')} stay readable inside the sandbox`,
    );
  if (rules.length === 0) return { policy, warnings };
  return {
    policy: {
      ...policy,
      filesystem: {
        ...filesystem,
        denyRead: [...filesystem.denyRead, ...rules],
        denyWrite: [...filesystem.denyWrite, ...rules],
      },
    },
    warnings,
  };
}
