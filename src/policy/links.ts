// Other names of files. Engines judge paths (a mount over ~/.ssh, a
// read-only root with the checkout writable); a hard link is the same file
// under another path. One search over the writable paths finds the two
// kinds that matter:
// - other names of denied files (a key linked into the checkout): denied
//   too;
// - files there that also have names outside the writable paths (a file
//   of $HOME, or pnpm's store linked into node_modules): writing them
//   would change the file elsewhere, so the run gives each a copy of its
//   own before the command starts (src/mounts/copies.ts).
// What the search cannot see (links elsewhere on disk) is reported.
import type { Dirent, Stats } from 'node:fs';
import { lstatSync, readdirSync, realpathSync, statSync } from 'node:fs';
import path from 'node:path';
import { ownKernelMounts } from '../mounts/mountinfo.js';
import { pathUnder } from './paths.js';
import type { PathRule, Policy } from './types.js';

/** Most entries one search visits, over every root together. */
export const LINK_SEARCH_LIMIT = 1_000_000;

/** A file in the writable paths that also has names outside them. */
export interface LinkedFile {
  /** Its names in the writable paths (the others are elsewhere). */
  paths: string[];
  /** The writable path each name was found under (paths[i] under roots[i]), real. */
  roots: string[];
  /** Each root's identity at search time (`dev:ino`): the copy checks it. */
  rootIds: string[];
  /** All its names (st_nlink). */
  links: number;
  /** Identity at search time: `dev:ino`. */
  inode: string;
}

/** What a search found, and what it could not. */
export interface LinkSearch {
  /** Other names, in the writable paths, of denied files. */
  aliases: { path: string; of: string }[];
  /** Denied files with links the search did not find (elsewhere on disk). */
  unaccounted: { file: string; links: number }[];
  /** Files in the writable paths linked from outside them. */
  linkedIn: LinkedFile[];
  truncated: boolean;
  /** What the search could not read (the first few): it is not complete. */
  unread: string[];
}

type Visit = (file: string, stat: Stats) => void;

const inodeKey = (s: Stats) => `${s.dev}:${s.ino}`;

/** The real path of `p` as a one-element list, or none if it is not there. */
function real(p: string): string[] {
  try {
    return [realpathSync(p)];
  } catch {
    return [];
  }
}

/** What stops a search: the budget, and what it could not read. */
interface Budget {
  left: number;
  /** Directories and files the walk could not read, with the reason. */
  unread: string[];
}

/** An error a walk may pass over: what vanished was not there to check. */
const vanished = (error: unknown) =>
  (error as NodeJS.ErrnoException).code === 'ENOENT';

/**
 * Visits every regular file under `root` (or `root` itself), depth first,
 * never following symlinks, skipping `skip` directories. Returns false
 * when the budget ran out; what it cannot read (a path past PATH_MAX, a
 * directory it may not list) goes to `budget.unread`. Synchronous: a walk
 * makes one call per entry, and a promise per call cost ten times the call
 * (the run waits for the walk either way).
 */
function walkFiles(
  root: string,
  skip: (dir: string) => boolean,
  budget: Budget,
  visit: Visit,
): boolean {
  const stat = (file: string) => {
    try {
      return lstatSync(file);
    } catch (error) {
      if (!vanished(error)) budget.unread.push(`${file}: ${String(error)}`);
      return undefined;
    }
  };
  const top = stat(root);
  if (top?.isFile()) visit(root, top);
  if (!top?.isDirectory()) return true;
  const stack = [root];
  while (stack.length > 0) {
    const dir = stack.pop()!;
    let entries: Dirent[];
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch (error) {
      if (!vanished(error)) budget.unread.push(`${dir}: ${String(error)}`);
      continue;
    }
    if (entries.length > budget.left) return false;
    budget.left -= entries.length;
    for (const entry of entries) {
      // dir is absolute and normal: joining needs no normalizing.
      const file = dir === '/' ? `/${entry.name}` : `${dir}/${entry.name}`;
      if (entry.isDirectory()) {
        if (!skip(file)) stack.push(file);
      } else if (entry.isFile()) {
        const found = stat(file);
        if (found) visit(file, found);
      }
    }
  }
  return true;
}

/**
 * `roots` without those inside another root (walked with it), in their
 * order: the checkout first, so a crowded /tmp cannot use up the budget
 * before it.
 */
function outermost(roots: readonly string[]): string[] {
  const all = [...new Set(roots.map((r) => path.resolve(r)))];
  return all.filter(
    (root) => !all.some((other) => other !== root && pathUnder(root, other)),
  );
}

/**
 * Searches `roots` (the writable paths) for multiply-linked files: other
 * names of the files under `denied`, and files with names outside `roots`.
 */
export async function searchLinks(
  denied: readonly string[],
  roots: readonly string[],
  limit = LINK_SEARCH_LIMIT,
): Promise<LinkSearch> {
  const budget: Budget = { left: limit, unread: [] };
  let complete = true;
  const kernel = ownKernelMounts();
  const inKernelFs = (p: string) => [...kernel].some((m) => pathUnder(p, m));
  // Real paths: a writable path that is a symlink is walked where it
  // leads (what the engines mount), and its identity kept for the copy.
  const deniedReal = denied.map((d) => real(d)[0] ?? d);
  const deniedLinks = new Map<string, { file: string; nlink: number }>();
  for (const dir of deniedReal) {
    if (inKernelFs(dir)) continue;
    complete &&= walkFiles(
      dir,
      (d) => kernel.has(d),
      budget,
      (file, stat) => {
        if (stat.nlink > 1)
          deniedLinks.set(inodeKey(stat), { file, nlink: stat.nlink });
      },
    );
  }
  const isDenied = (p: string) => deniedReal.some((d) => pathUnder(p, d));
  const skip = (dir: string) => isDenied(dir) || kernel.has(dir);
  const rootIds = new Map<string, string>();
  const found = new Map<
    string,
    { paths: string[]; roots: string[]; nlink: number }
  >();
  for (const root of outermost(roots.flatMap(real))) {
    if (isDenied(root) || inKernelFs(root)) continue;
    rootIds.set(root, inodeKey(statSync(root)));
    complete &&= walkFiles(root, skip, budget, (file, stat) => {
      if (stat.nlink < 2 || isDenied(file)) return;
      const key = inodeKey(stat);
      const entry = found.get(key);
      if (entry) {
        entry.paths.push(file);
        entry.roots.push(root);
      } else
        found.set(key, { paths: [file], roots: [root], nlink: stat.nlink });
    });
  }

  const result: LinkSearch = {
    aliases: [],
    unaccounted: [],
    linkedIn: [],
    truncated: !complete,
    unread: budget.unread.slice(0, 5),
  };
  for (const [inode, { paths, roots: rootsOf, nlink }] of found) {
    const of = deniedLinks.get(inode)?.file;
    if (of) result.aliases.push(...paths.map((p) => ({ path: p, of })));
    else if (paths.length < nlink)
      result.linkedIn.push({
        paths,
        roots: rootsOf,
        rootIds: rootsOf.map((r) => rootIds.get(r)!),
        links: nlink,
        inode,
      });
  }
  for (const [inode, { file, nlink }] of deniedLinks) {
    const missing = nlink - 1 - (found.get(inode)?.paths.length ?? 0);
    if (missing > 0) result.unaccounted.push({ file, links: missing });
  }
  return result;
}

/** The run's answer to the search: a policy, files to copy, warnings. */
export interface LinkCheck {
  /** The policy with found links of denied files denied too. */
  policy: Policy;
  /** Files that get a copy of their own before the command starts. */
  linkedIn: LinkedFile[];
  /**
   * Set when the search stopped early: a sandboxed run must not start
   * (links further down would stay open), and this says why.
   */
  incomplete?: string;
  warnings: string[];
}

/**
 * Searches the checkout and the writable paths: every found link of a
 * denied file is denied for reading and writing as well; files linked
 * from outside are returned to be copied; what the search could not cover
 * is a warning.
 */
export async function checkLinks(
  policy: Policy,
  cwd: string,
  limit = LINK_SEARCH_LIMIT,
): Promise<LinkCheck> {
  const { filesystem } = policy;
  const roots = outermost([cwd, ...filesystem.allowWrite.map((r) => r.path)]);
  const search = await searchLinks(
    filesystem.denyRead.map((r) => r.path),
    roots,
    limit,
  );
  const warnings = search.unaccounted.map(
    (u) =>
      `${u.file} has ${u.links} other hard link(s) outside ${roots.join(', ')}: under those names it stays readable inside the sandbox; remove the extra links`,
  );
  const open =
    'links to denied files there would stay readable, and files linked from elsewhere writable, inside the sandbox';
  const incomplete = search.truncated
    ? `the search for hard links stopped after ${limit} entries of ${roots.join(', ')}: ${open}; remove what is not needed there (an earlier job's files in /tmp?) or narrow filesystem.allow_write`
    : search.unread.length
      ? `the search for hard links could not read ${search.unread.join('; ')}: ${open}; remove or shorten what cannot be read`
      : undefined;
  const found = {
    linkedIn: search.linkedIn,
    ...(incomplete ? { incomplete } : {}),
  };
  const rules: PathRule[] = search.aliases.map((a) => ({
    path: a.path,
    raw: a.path,
    source: { kind: 'default', origin: `hard link of ${a.of}` },
  }));
  if (rules.length === 0) return { policy, ...found, warnings };
  return {
    policy: {
      ...policy,
      filesystem: {
        ...filesystem,
        denyRead: [...filesystem.denyRead, ...rules],
        denyWrite: [...filesystem.denyWrite, ...rules],
      },
    },
    ...found,
    warnings,
  };
}
