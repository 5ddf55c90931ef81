import { mkdir, rmdir } from 'node:fs/promises';
import type { Context } from '../../context.js';
import type { Resolver } from '../../dns/resolver.js';
import type { CommandRunner } from '../../exec/runner.js';
import type { UndoStack } from '../../exec/undo.js';
import { enableForwarding, restoreForwarding } from '../../netns/forwarding.js';
import {
  claimSlot,
  releaseRunSlots,
  removeEmptyPool,
} from '../../netns/lease.js';
import { readRoutes } from '../../netns/routes.js';
import { sysctlWriter } from '../../netns/sysctl.js';
import { createdWarnings } from '../../mounts/created.js';
import type { StepReached } from '../steps.js';
import type { ApplyControls, PlanInput } from '../types.js';
import { poolDirFor, type KernelOptions } from './options.js';
import { buildKernelPlan, planSysctl, type KernelPlan } from './plan.js';
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
  step: StepReached;
}): Promise<Established> {
  const { ctx, exec, input, kernel, controls, undo, step } = options;
  const started = performance.now();
  // Milliseconds from the start at the end of each stage, for the debug log.
  const at: Record<string, number> = {};
  const mark = (stage: string) => {
    at[stage] = Math.round(performance.now() - started);
  };
  checkAbort(controls);
  const created = await mkdir(input.stateDir, { recursive: true, mode: 0o700 });
  if (created) {
    undo.push('remove the state directory', () =>
      rmdir(input.stateDir).catch(() => undefined),
    );
  }
  const record = RunRecord.in(input.stateDir, input.runId);
  undo.push('remove the state record', () => record.discard());
  step('kernel-record');

  const poolDir = poolDirFor(input.stateDir, kernel);
  // Straight into /proc/sys, or through a private procfs where it is
  // read-only (a job container).
  const write = sysctlWriter({ ...planSysctl(input), exec });
  // Recorded before the claim, by run id: a run killed between writing its
  // lease and learning the slot still has the lease found and removed.
  // Released last: the addresses stay taken until the links are gone.
  track(
    undo,
    record,
    [
      { kind: 'lease', poolDir, runId: input.runId },
      { kind: 'forwarding', poolDir },
    ],
    'release the address lease',
    async () => {
      await releaseRunSlots(poolDir, input.runId);
      await restoreForwarding({ poolDir, write });
      await removeEmptyPool(poolDir);
    },
  );
  const lease = await claimSlot({
    poolDir,
    pool: kernel.pool,
    runId: input.runId,
    routes: await readRoutes(),
  });
  mark('lease');
  const plan = buildKernelPlan(input, kernel, lease.subnet.slot, true);
  const ipv6 = plan.netns.ipv6;
  step('kernel-lease');
  mark('plan');

  const host = await readHostFiles(kernel);
  mark('hostFiles');
  const times = await buildSandbox({
    exec,
    plan,
    resolv: host.resolv,
    undo,
    record,
    step,
    created: (result) => {
      for (const warning of createdWarnings(result)) ctx.log.warn(warning);
    },
    extra: {
      forwarding: () =>
        enableForwarding({ poolDir, ipv6, write }).then(() =>
          step('kernel-forwarding'),
        ),
    },
  });
  checkAbort(controls);
  mark('objects');

  const resolver = await startResolver({
    ctx,
    exec,
    plan,
    policy: input.policy,
    host,
    kernel,
    undo,
  });
  step('kernel-resolver');
  checkAbort(controls);
  ctx.log.debug('kernel sandbox ready', {
    netns: plan.names.netns,
    slot: plan.addresses.slot,
    backend: plan.firewall.backend,
    stepMs: times,
    reachedMs: at,
    totalMs: Math.round(performance.now() - started),
  });
  return { plan, resolver };
}
