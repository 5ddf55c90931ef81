import { mkdir, rmdir } from 'node:fs/promises';
import type { Context } from '../../context.js';
import type { Resolver } from '../../dns/resolver.js';
import type { CommandRunner } from '../../exec/runner.js';
import type { UndoStack } from '../../exec/undo.js';
import { enableForwarding, restoreForwarding } from '../../netns/forwarding.js';
import { claimSlot, releaseSlot, removeEmptyPool } from '../../netns/lease.js';
import { readRoutes } from '../../netns/routes.js';
import { sysctlWriter } from '../../netns/sysctl.js';
import type { ApplyControls, PlanInput } from '../types.js';
import { poolDirFor, type KernelOptions } from './options.js';
import { buildKernelPlan, type KernelPlan } from './plan.js';
import { startResolver } from './resolver.js';
import { buildSandbox, readHostFiles, track } from './setup.js';
import { RunRecord } from './state.js';

/** Thrown between steps when the controller was told to stop. */
export class Aborted extends Error {}

function checkAbort(controls: ApplyControls): void {
  if (controls.abort.aborted) throw new Aborted();
}

/** A sandbox ready for commands: its plan (with the claimed slot) and resolver. */
export interface Established {
  plan: KernelPlan;
  resolver: Resolver;
}

/**
 * Builds the run's sandbox: state record, address lease, then namespace,
 * firewall, view files and forwarding side by side, then the resolver.
 * Each step records its objects and registers its undo before it starts.
 */
export async function establish(options: {
  ctx: Context;
  exec: CommandRunner;
  input: PlanInput;
  kernel: KernelOptions;
  controls: ApplyControls;
  undo: UndoStack;
}): Promise<Established> {
  const { ctx, exec, input, kernel, controls, undo } = options;
  const started = performance.now();
  checkAbort(controls);
  const created = await mkdir(input.stateDir, { recursive: true, mode: 0o700 });
  if (created) {
    undo.push('remove the state directory', () =>
      rmdir(input.stateDir).catch(() => undefined),
    );
  }
  const record = RunRecord.in(input.stateDir, input.runId);
  undo.push('remove the state record', () => record.discard());

  const poolDir = poolDirFor(input.stateDir, kernel);
  const lease = await claimSlot({
    poolDir,
    pool: kernel.pool,
    runId: input.runId,
    routes: await readRoutes(),
  });
  const plan = buildKernelPlan(input, kernel, lease.subnet.slot, true);
  const ipv6 = plan.netns.ipv6;
  const write = sysctlWriter({ ...plan.sysctl, exec });
  // Released last: the addresses stay taken until the links are gone.
  track(
    undo,
    record,
    [
      { kind: 'lease', file: lease.file, poolDir },
      { kind: 'forwarding', poolDir },
    ],
    'release the address lease',
    async () => {
      await releaseSlot(lease);
      await restoreForwarding({ poolDir, ipv6, write });
      await removeEmptyPool(poolDir);
    },
  );

  const host = await readHostFiles(kernel);
  const times = await buildSandbox({
    exec,
    plan,
    resolv: host.resolv,
    undo,
    record,
    extra: { forwarding: () => enableForwarding({ poolDir, ipv6, write }) },
  });
  checkAbort(controls);

  const resolver = await startResolver({
    ctx,
    exec,
    plan,
    policy: input.policy,
    host,
    kernel,
    undo,
  });
  checkAbort(controls);
  ctx.log.debug('kernel sandbox ready', {
    netns: plan.names.netns,
    slot: plan.addresses.slot,
    backend: plan.firewall.backend,
    stepMs: times,
    totalMs: Math.round(performance.now() - started),
  });
  return { plan, resolver };
}
