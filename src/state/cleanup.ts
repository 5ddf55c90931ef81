import { readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Context } from '../context.js';
import type { KernelState, RecordedObject } from '../engines/kernel/state.js';
import { STATE_FILE } from '../engines/kernel/state.js';
import { describeError } from '../errors.js';
import { releaseSlot } from '../netns/lease.js';
import { restoreForwarding } from '../netns/forwarding.js';
import { sysctlMethod, sysctlWriter } from '../netns/sysctl.js';
import { ownerAlive } from './liveness.js';
import { which } from '../exec/which.js';
import { SYSTEM_PATH } from '../engines/kernel/probe.js';

/** Written by every run into its state directory: who owns it. */
export interface OwnerRecord {
  runId: string;
  pid: number;
  startedAt: string;
  /** Files outside the state directory the run made (SRT's sockets). */
  files?: string[];
}

export const OWNER_FILE = 'owner.json';

/** What one cleanup pass did. */
export interface CleanupResult {
  removedRuns: string[];
  liveRuns: string[];
  failures: string[];
}

async function readJson<T>(file: string): Promise<T | undefined> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as T;
  } catch {
    return undefined;
  }
}

/**
 * A system tool by absolute path: never the job's PATH, where a project's
 * node_modules/.bin may hold an npm package called `nft`.
 */
function sys(name: string): string {
  const found = which(name, SYSTEM_PATH);
  if (!found) throw new Error(`${name} not found in ${SYSTEM_PATH}`);
  return found;
}

/** Removes one recorded object; "already gone" is success. */
async function removeObject(
  ctx: Context,
  object: RecordedObject,
): Promise<void> {
  const quiet = { allowFailure: true };
  switch (object.kind) {
    case 'netns': {
      // Processes left in the namespace (a killed run's command) go first.
      const pids = await ctx.exec.run(
        [sys('ip'), 'netns', 'pids', object.name],
        quiet,
      );
      for (const pid of pids.stdout.split('\n').filter(Boolean)) {
        try {
          process.kill(Number(pid), 'SIGKILL');
        } catch {
          // Already gone.
        }
      }
      await ctx.exec.run([sys('ip'), 'netns', 'delete', object.name], quiet);
      return;
    }
    case 'link':
      await ctx.exec.run([sys('ip'), 'link', 'delete', object.name], quiet);
      return;
    case 'nft-table': {
      const result = await ctx.exec.run(
        [sys('nft'), 'delete', 'table', object.family, object.name],
        quiet,
      );
      if (result.exitCode !== 0 && !/No such file/.test(result.stderr)) {
        throw new Error(
          `nft delete table ${object.name}: ${result.stderr.trim()}`,
        );
      }
      return;
    }
    case 'iptables':
      // The same teardown batch for each family the run filtered: IPv4
      // always, IPv6 too where it had ip6tables.
      for (const tool of object.ipv6
        ? ['iptables-restore', 'ip6tables-restore']
        : ['iptables-restore']) {
        await ctx.exec.run([sys(tool), '--noflush', '--wait'], {
          ...quiet,
          input: object.teardown,
        });
      }
      return;
    case 'lease':
      await releaseSlot({ file: object.file });
      return;
    case 'forwarding': {
      // The same way a run writes them: through a private procfs where
      // /proc/sys is read-only (a job container).
      const method = await sysctlMethod();
      const write = sysctlWriter({
        method,
        exec: ctx.exec,
        tools:
          method === 'direct'
            ? undefined
            : { unshare: sys('unshare'), mount: sys('mount'), sh: sys('sh') },
      });
      await restoreForwarding({ poolDir: object.poolDir, ipv6: true, write });
      return;
    }
    case 'files':
      await Promise.all(
        object.paths.map((p) => rm(p, { recursive: true, force: true })),
      );
      return;
    default: {
      const unknown: never = object;
      throw new Error(`unknown recorded object ${JSON.stringify(unknown)}`);
    }
  }
}

/** Kills helper processes (SRT's socat bridges) that serve a dead run's sockets. */
async function killHelpers(files: string[]): Promise<void> {
  if (files.length === 0) return;
  for (const pid of await readdir('/proc').catch(() => [] as string[])) {
    if (!/^\d+$/.test(pid)) continue;
    const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(
      () => '',
    );
    if (files.some((f) => cmdline.includes(f))) {
      try {
        process.kill(Number(pid), 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
  }
}

/** Cleans one dead run's directory; returns the failures. */
async function cleanRun(
  ctx: Context,
  dir: string,
  owner: OwnerRecord | undefined,
  kernel: KernelState | undefined,
): Promise<string[]> {
  const failures: string[] = [];
  await killHelpers(owner?.files ?? []);
  // Newest first, as teardown does; forwarding last, since it is restored
  // only once no lease is left.
  const objects = [...(kernel?.objects ?? [])].reverse();
  const ordered = [
    ...objects.filter((o) => o.kind !== 'forwarding'),
    ...objects.filter((o) => o.kind === 'forwarding'),
  ];
  for (const object of ordered) {
    try {
      await removeObject(ctx, object);
    } catch (error) {
      failures.push(
        `${path.basename(dir)}: ${object.kind}: ${describeError(error)}`,
      );
    }
  }
  await Promise.all(
    (owner?.files ?? []).map((f) => rm(f, { recursive: true, force: true })),
  );
  if (failures.length === 0) await rm(dir, { recursive: true, force: true });
  return failures;
}

/**
 * Removes what runs whose controller is gone left behind: their recorded
 * kernel objects, helper processes, files and state. A live run's state is
 * never touched, so this is safe while other jobs run.
 */
export async function cleanupDeadRuns(
  ctx: Context,
  root: string,
  except?: string,
): Promise<CleanupResult> {
  const result: CleanupResult = { removedRuns: [], liveRuns: [], failures: [] };
  const entries = await readdir(root, { withFileTypes: true }).catch(() => []);
  for (const entry of entries) {
    if (
      !entry.isDirectory() ||
      entry.name === except ||
      !/^[0-9a-f]{8}$/.test(entry.name)
    )
      continue;
    const dir = path.join(root, entry.name);
    const owner = await readJson<OwnerRecord>(path.join(dir, OWNER_FILE));
    const kernel = await readJson<KernelState>(path.join(dir, STATE_FILE));
    const who = owner ?? kernel;
    // A directory without an owner record may be a run between mkdir and
    // its first write: only an old one is taken as abandoned.
    const young = !who && (await stat(dir)).mtimeMs > Date.now() - 60_000;
    if (young || (who && ownerAlive(who.pid, who.startedAt))) {
      result.liveRuns.push(entry.name);
      continue;
    }
    const failures = await cleanRun(ctx, dir, owner, kernel);
    result.failures.push(...failures);
    if (failures.length === 0) result.removedRuns.push(entry.name);
  }
  return result;
}

/** Writes (or rewrites) the run's owner record, with files to remove if it dies. */
export async function writeOwner(
  stateDir: string,
  runId: string,
  files: string[] = [],
): Promise<void> {
  const record: OwnerRecord = {
    runId,
    pid: process.pid,
    startedAt: new Date().toISOString(),
    files,
  };
  await writeFile(
    path.join(stateDir, OWNER_FILE),
    `${JSON.stringify(record)}\n`,
    { mode: 0o600 },
  );
}
