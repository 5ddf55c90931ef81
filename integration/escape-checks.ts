import { HARNESS_TMP_ENTRIES } from '../scripts/testnet/exec.js';
// What the host shows after an escape run: files that outlived the
// sandbox, processes still alive, names a DNS server was asked. Each check
// also removes what it found, so the next run starts clean.
import { existsSync } from 'node:fs';
import { readdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { processesInNetns } from '../scripts/testnet/snapshot.js';
import type { Testnet } from '../scripts/testnet/testnet.js';
import type { HostCheck } from './cases/escape-types.js';
import { stateDirOf } from './sandbox-run.js';

/** Pids of live processes whose argv contains `marker` (a nonce-bearing string). */
export async function pidsMarked(marker: string): Promise<number[]> {
  const found: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    const argv = await readFile(`/proc/${entry}/cmdline`).catch(() => null);
    if (!argv?.includes(marker)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '');
    // A zombie is dead already; only its parent can reap it.
    if (/^\d+ \(.*\) Z/.test(stat)) continue;
    found.push(Number(entry));
  }
  return found;
}

/** SIGKILLs every process whose argv contains `marker`; returns how many. */
export async function killMarked(marker: string): Promise<number> {
  const pids = await pidsMarked(marker);
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Gone already.
    }
  }
  return pids.length;
}

/** Replaces `${NAME}` with values from `env`. */
export function expand(text: string, env: Record<string, string>): string {
  return text.replace(/\$\{(\w+)\}/g, (_, name: string) => env[name] ?? '');
}

const DNS_HOSTS = ['dns', 'out', 'gl'] as const;

/** How far each DNS server's log went: names asked before it do not count. */
export type DnsMark = Record<string, number>;

export async function dnsMark(net: Testnet): Promise<DnsMark> {
  const mark: DnsMark = {};
  for (const host of DNS_HOSTS) mark[host] = (await net.events(host)).length;
  return mark;
}

/** Every name a test DNS server (zone, rogue, instance resolver) was asked since `mark`. */
export async function dnsNamesSince(
  net: Testnet,
  mark: DnsMark,
): Promise<string[]> {
  const names: string[] = [];
  for (const host of DNS_HOSTS) {
    const events = (await net.events(host)).slice(mark[host] ?? 0);
    for (const e of events) if (e.kind === 'dns') names.push(e.name ?? '');
  }
  return names;
}

/** True when the host shows that the attempt got through; cleans up after it. */
export async function hostObserves(
  net: Testnet,
  check: HostCheck,
  env: Record<string, string>,
  since: DnsMark,
): Promise<{ through: boolean; detail: string }> {
  switch (check.kind) {
    case 'file': {
      const file = expand(check.path, env);
      const through = existsSync(file);
      await rm(file, { force: true });
      return { through, detail: `${file} ${through ? 'exists' : 'absent'}` };
    }
    case 'process': {
      // Processes die with the sandbox a moment after the command ends.
      let alive = await pidsMarked(check.marker);
      for (let i = 0; i < 20 && alive.length > 0; i++) {
        await new Promise((r) => setTimeout(r, 100));
        alive = await pidsMarked(check.marker);
      }
      await killMarked(check.marker);
      return { through: alive.length > 0, detail: `alive: ${alive.join(' ')}` };
    }
    case 'dns': {
      const hits = (await dnsNamesSince(net, since)).filter((n) =>
        n.includes(check.needle),
      );
      return { through: hits.length > 0, detail: `asked: ${hits.join(' ')}` };
    }
  }
}

/** Processes in the runner's namespace, files in its /tmp, run state dirs. */
export interface Leftovers {
  processes: string[];
  tmp: string[];
  state: string[];
}

export async function engineLeftovers(net: Testnet): Promise<Leftovers> {
  return {
    processes: await processesInNetns(net.runnerNs),
    tmp: (await readdir(net.paths.tmp).catch(() => [] as string[])).filter(
      (e) => !HARNESS_TMP_ENTRIES.includes(e),
    ),
    state: await readdir(stateDirOf(net)).catch(() => []),
  };
}

/** Kills processes and removes /tmp files that appeared since `before`; returns them. */
export async function removeEngineLeftovers(
  net: Testnet,
  before: Leftovers,
): Promise<string[]> {
  const now = await engineLeftovers(net);
  const processes = now.processes.filter((p) => !before.processes.includes(p));
  for (const p of processes) {
    try {
      process.kill(Number(p.split(' ')[0]), 'SIGKILL');
    } catch {
      // Gone already.
    }
  }
  const files = now.tmp.filter((f) => !before.tmp.includes(f));
  for (const f of files) {
    await rm(path.join(net.paths.tmp, f), { recursive: true, force: true });
  }
  // kernel-pool is the address pool runs share, not one run's state.
  const states = now.state.filter(
    (d) => !before.state.includes(d) && d !== 'kernel-pool',
  );
  for (const d of states) {
    await rm(path.join(stateDirOf(net), d), { recursive: true, force: true });
  }
  return [
    ...processes.map((p) => `process ${p}`),
    ...files.map((f) => `/tmp/${f}`),
    ...states.map((d) => `run state ${d}`),
  ];
}
