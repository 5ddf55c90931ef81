import { readdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { writeAtomic } from '../state/atomic.js';
import { leasedSlots } from './lease.js';
import { withLock } from './lock.js';
import { OBJECT_PREFIX } from './names.js';
import type { SysctlWriter } from './sysctl.js';

/**
 * Where and how forwarding is switched. Values are read from `procSys`
 * (swapped in tests; readable even where it is mounted read-only) and
 * written through `write`, which knows how to get past a read-only mount.
 */
export interface ForwardingOptions {
  poolDir: string;
  /** Whether to switch IPv6 forwarding on too (enabling only). */
  ipv6?: boolean;
  procSys?: string;
  write: SysctlWriter;
}

/** What runs changed, shared by every run on the host, so the last one restores it. */
interface ForwardingState {
  /** sysctl path (relative to /proc/sys) and its value before any run changed it. */
  changed: Record<string, string>;
}

const IPV4 = 'net/ipv4/ip_forward';
const IPV6 = 'net/ipv6/conf/all/forwarding';

function stateFile(poolDir: string): string {
  return path.join(poolDir, 'forwarding.json');
}

async function readState(poolDir: string): Promise<ForwardingState> {
  const text = await readFile(stateFile(poolDir), 'utf8').catch(() => '');
  return text ? (JSON.parse(text) as ForwardingState) : { changed: {} };
}

async function readSysctl(root: string, key: string): Promise<string> {
  return (await readFile(path.join(root, key), 'utf8')).trim();
}

// With forwarding on, an interface with accept_ra=1 ignores router
// advertisements, and the runner would lose an IPv6 default route learned
// from them; 2 keeps accepting them.
async function routerAdvertisementKeys(root: string): Promise<string[]> {
  const dir = path.join(root, 'net/ipv6/conf');
  const names = await readdir(dir).catch(() => [] as string[]);
  const keys: string[] = [];
  for (const name of names) {
    // Runs' own veths come and go; their settings need no restoring.
    if (
      ['all', 'default', 'lo'].includes(name) ||
      name.startsWith(OBJECT_PREFIX)
    )
      continue;
    const key = `net/ipv6/conf/${name}/accept_ra`;
    if ((await readSysctl(root, key).catch(() => '')) === '1') keys.push(key);
  }
  return keys;
}

/**
 * Turns on forwarding in the runner's namespace where it is off. The value
 * found first is kept in a state file shared by all runs, so the last run
 * to finish restores it, and no run switches it off under another one.
 * The file is written before the values change: a run killed in between
 * leaves a record of what to put back, never a change without one.
 */
export async function enableForwarding(
  options: ForwardingOptions,
): Promise<void> {
  const root = options.procSys ?? '/proc/sys';
  await withLock(path.join(options.poolDir, 'forwarding.lock'), async () => {
    const state = await readState(options.poolDir);
    const writes: Array<[string, string]> = [];
    const keys = options.ipv6 ? [IPV4, IPV6] : [IPV4];
    for (const key of keys) {
      const value = await readSysctl(root, key);
      if (value === '1') continue;
      if (key === IPV6) {
        for (const ra of await routerAdvertisementKeys(root)) {
          state.changed[ra] ??= '1';
          writes.push([ra, '2']);
        }
      }
      state.changed[key] ??= value;
      writes.push([key, '1']);
    }
    if (writes.length === 0) return;
    await writeAtomic(stateFile(options.poolDir), JSON.stringify(state));
    for (const [key, value] of writes) await options.write(key, value);
  });
}

/**
 * Restores what runs changed once no run holds a lease any more. Call it
 * after releasing this run's lease.
 */
export async function restoreForwarding(
  options: ForwardingOptions,
): Promise<void> {
  await withLock(path.join(options.poolDir, 'forwarding.lock'), async () => {
    if ((await leasedSlots(options.poolDir)).size > 0) return;
    const state = await readState(options.poolDir);
    // Forwarding first: switching it off resets per-interface values.
    const all = Object.keys(state.changed);
    const first = all.filter((key) => key === IPV4 || key === IPV6) as string[];
    for (const key of [...first, ...all.filter((k) => !first.includes(k))]) {
      // An interface removed since then has nothing left to restore.
      await options
        .write(key, state.changed[key]!)
        .catch((error: NodeJS.ErrnoException) => {
          if (error.code !== 'ENOENT') throw error;
        });
    }
    // With the temporary file a killed writer may have left.
    for (const file of [
      stateFile(options.poolDir),
      `${stateFile(options.poolDir)}.tmp`,
    ])
      await rm(file, { force: true });
  });
}
