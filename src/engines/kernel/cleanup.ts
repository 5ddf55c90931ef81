import { readdir, readFile, rm, rmdir } from 'node:fs/promises';
import path from 'node:path';
import { describeError } from '../../errors.js';
import type { CommandRunner } from '../../exec/runner.js';
import type { Logger } from '../../log/logger.js';
import { removeFirewall } from '../../firewall/apply.js';
import { IPTABLES_RESTORE } from '../../firewall/iptables.js';
import { nftTeardownArgv } from '../../firewall/nft.js';
import type { FirewallPlan } from '../../firewall/plan.js';
import { removeNetns } from '../../netns/apply.js';
import { restoreForwarding } from '../../netns/forwarding.js';
import { removeEmptyPool } from '../../netns/lease.js';
import { STATE_FILE, type KernelState, type RecordedObject } from './state.js';

// The objects of one record, undone in the same order as a live teardown:
// firewall, namespace and files first, the lease and forwarding last.
async function undoObject(
  exec: CommandRunner,
  object: RecordedObject,
): Promise<void> {
  switch (object.kind) {
    case 'netns':
      return removeNetns(exec, {
        netns: object.name,
        teardownBatch: `netns del ${object.name}\n`,
      });
    case 'link':
      return removeNetns(exec, {
        netns: object.name,
        teardownBatch: `link del ${object.name}\n`,
      });
    case 'nft-table':
      return removeFirewall(
        exec,
        firewallPlan(
          {
            backend: 'nft',
            table: object.name,
            chain: object.name,
            ipv6: true,
          },
          [{ argv: nftTeardownArgv(object.name) }],
        ),
      );
    case 'iptables': {
      const families = object.ipv6 ? ([4, 6] as const) : ([4] as const);
      const steps = families.map((f) => ({
        argv: [...IPTABLES_RESTORE[f]],
        input: object.teardown,
      }));
      return removeFirewall(
        exec,
        firewallPlan(
          {
            backend: 'iptables',
            table: object.chain,
            chain: object.chain,
            ipv6: object.ipv6,
          },
          steps,
        ),
      );
    }
    case 'files':
      await Promise.all(
        object.paths.map((p) => rm(p, { recursive: true, force: true })),
      );
      return;
    case 'lease':
      await rm(object.file, { force: true });
      return;
    case 'forwarding':
      await restoreForwarding({ poolDir: object.poolDir, ipv6: true });
      await removeEmptyPool(object.poolDir);
      return;
  }
}

function firewallPlan(
  base: Pick<FirewallPlan, 'backend' | 'table' | 'chain' | 'ipv6'>,
  teardown: FirewallPlan['teardown'],
): FirewallPlan {
  return { ...base, setup: [], verify: [], teardown };
}

const ORDER: Record<RecordedObject['kind'], number> = {
  'nft-table': 0,
  iptables: 0,
  link: 1,
  netns: 2,
  files: 3,
  lease: 4,
  forwarding: 5,
};

/**
 * Removes what a run's record lists (a run killed before its teardown),
 * then the record and the run's directory. Safe to repeat; failures are
 * returned, and the record stays for another try.
 */
export async function cleanUpRecord(
  exec: CommandRunner,
  runDir: string,
): Promise<string[]> {
  const file = path.join(runDir, STATE_FILE);
  const state = JSON.parse(await readFile(file, 'utf8')) as KernelState;
  const failures: string[] = [];
  const objects = [...state.objects].sort(
    (a, b) => ORDER[a.kind] - ORDER[b.kind],
  );
  for (const object of objects) {
    await undoObject(exec, object).catch((error: unknown) =>
      failures.push(`${object.kind}: ${describeError(error)}`),
    );
  }
  if (failures.length === 0) {
    await rm(file, { force: true });
    await rmdir(runDir).catch(() => undefined);
  }
  return failures;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists, it is just not ours to signal.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Cleans up after runs whose controller died (SIGKILL, a crash): a lease
 * whose process is gone names the run, and the run's record says what it
 * left. Live runs are never touched. Returns what it cleaned, for the log.
 */
export async function reapStaleRuns(options: {
  exec: CommandRunner;
  poolDir: string;
  stateRoot: string;
  log: Logger;
}): Promise<string[]> {
  const { exec, poolDir, stateRoot, log } = options;
  const names = await readdir(poolDir).catch(() => [] as string[]);
  const reaped: string[] = [];
  for (const name of names.filter((n) => n.endsWith('.lease'))) {
    const lease = path.join(poolDir, name);
    const owner = await readFile(lease, 'utf8')
      .then((text) => JSON.parse(text) as { runId?: string; pid?: number })
      .catch(() => undefined);
    if (!owner?.runId || !owner.pid || alive(owner.pid)) continue;
    const runDir = path.join(stateRoot, owner.runId);
    const failures = await cleanUpRecord(exec, runDir).catch(async () => {
      // No record: nothing but the lease to remove.
      await rm(lease, { force: true });
      return [] as string[];
    });
    if (failures.length > 0) {
      log.warn('could not clean up after a killed run', {
        runId: owner.runId,
        failures,
      });
    } else {
      reaped.push(owner.runId);
    }
  }
  if (reaped.length > 0)
    log.info('cleaned up after killed runs', { runs: reaped });
  return reaped;
}
