import { statSync } from 'node:fs';
import { readdir, readFile, readlink } from 'node:fs/promises';
import type { CommandRunner } from '../../src/exec/runner.js';

/**
 * Kernel state for before/after comparisons. `runner` is everything inside
 * the runner namespace this network owns (exact: nobody else works there).
 * `global` lists sandbox objects (`fsbx` but not `fsbxt`) in the host's
 * namespace, where other people's runs come and go: compare it only for
 * names a run of ours can be blamed for (see ownedNetns).
 */
export interface Snapshot {
  runner: {
    links: string;
    addresses: string;
    routes: string;
    nft: string;
    iptables: string;
    ip6tables: string;
    /** Processes whose network namespace is the runner's (pid: argv). */
    processes: string[];
  };
  global: {
    netns: string[];
    links: string[];
    nftTables: string[];
  };
}

const isSandboxName = (name: string) =>
  name.startsWith('fsbx') && !name.startsWith('fsbxt');

/**
 * Drops what changes with time or traffic alone: comments with dates, and
 * packet counters.
 */
export function stable(text: string): string {
  return text
    .split('\n')
    .filter((line) => !line.startsWith('#'))
    .map((line) => line.replace(/\[\d+:\d+\]/g, '[*]'))
    .map((line) => line.replace(/packets \d+ bytes \d+/g, 'packets * bytes *'))
    .join('\n')
    .trim();
}

async function inNs(exec: CommandRunner, ns: string, argv: string[]) {
  const result = await exec.run(
    ['nsenter', `--net=/run/netns/${ns}`, '--', ...argv],
    {
      allowFailure: true,
    },
  );
  return stable(
    `${result.stdout}${result.exitCode === 0 ? '' : `\nexit ${result.exitCode}: ${result.stderr}`}`,
  );
}

/** Processes living in the namespace bound at /run/netns/NS, as "pid argv". */
export async function processesInNetns(ns: string): Promise<string[]> {
  const wanted = nsInode(ns);
  if (!wanted) return [];
  const found: string[] = [];
  for (const pid of await readdir('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    const link = await readlink(`/proc/${pid}/ns/net`).catch(() => '');
    if (link !== wanted) continue;
    const argv = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    found.push(`${pid} ${argv.split('\0').join(' ').trim()}`);
  }
  return found;
}

// "net:[INODE]", as /proc/PID/ns/net reads for a process in that namespace.
function nsInode(ns: string): string | undefined {
  try {
    return `net:[${statSync(`/run/netns/${ns}`).ino}]`;
  } catch {
    return undefined;
  }
}

/** Takes a snapshot; `runnerNs` is this test network's runner namespace. */
export async function takeSnapshot(
  exec: CommandRunner,
  runnerNs: string,
): Promise<Snapshot> {
  const netns = await exec.run(['ip', 'netns', 'list'], { allowFailure: true });
  const links = await exec.run(['ip', '-o', 'link', 'show'], {
    allowFailure: true,
  });
  const tables = await exec.run(['nft', 'list', 'tables'], {
    allowFailure: true,
  });
  return {
    runner: {
      links: await inNs(exec, runnerNs, ['ip', '-d', 'link', 'show']),
      addresses: await inNs(exec, runnerNs, ['ip', 'addr', 'show']),
      routes: await inNs(exec, runnerNs, [
        'sh',
        '-c',
        'ip route show table all; ip -6 route show table all',
      ]),
      nft: await inNs(exec, runnerNs, ['nft', 'list', 'ruleset']),
      iptables: await inNs(exec, runnerNs, ['iptables-save']),
      ip6tables: await inNs(exec, runnerNs, ['ip6tables-save']),
      processes: await processesInNetns(runnerNs),
    },
    global: {
      netns: netns.stdout
        .split('\n')
        .map((line) => line.split(' ')[0] ?? '')
        .filter(isSandboxName),
      links: links.stdout
        .split('\n')
        .map((line) => line.split(': ')[1]?.split('@')[0] ?? '')
        .filter(isSandboxName),
      nftTables: tables.stdout
        .split('\n')
        .map((line) => line.trim().split(' ')[2] ?? '')
        .filter(isSandboxName),
    },
  };
}

/** Differences between two snapshots that this network's runs are to blame for. */
export async function ownedDifferences(
  exec: CommandRunner,
  runnerNs: string,
  before: Snapshot,
  after: Snapshot,
): Promise<string[]> {
  const diffs: string[] = [];
  for (const key of Object.keys(
    before.runner,
  ) as (keyof Snapshot['runner'])[]) {
    const was = JSON.stringify(before.runner[key]);
    const now = JSON.stringify(after.runner[key]);
    if (was !== now) diffs.push(`runner ${key}: ${was} -> ${now}`);
  }
  const newNetns = after.global.netns.filter(
    (n) => !before.global.netns.includes(n),
  );
  for (const name of newNetns) {
    if (await linkedTo(exec, name, runnerNs))
      diffs.push(`leftover netns ${name}`);
  }
  return diffs;
}

// A sandbox namespace is ours when one of its links has its peer in our
// runner namespace; other people's concurrent runs are not.
async function linkedTo(exec: CommandRunner, ns: string, runnerNs: string) {
  const links = await exec.run(['ip', '-n', ns, '-o', 'link', 'show'], {
    allowFailure: true,
  });
  return links.stdout.includes(`link-netns ${runnerNs}`);
}
