import { mkdir, rmdir } from 'node:fs/promises';
import { constants } from 'node:os';
import type { Context } from '../../context.js';
import { UndoStack } from '../../exec/undo.js';
import { allowanceFor, grantsFor } from '../../dns/decide.js';
import type { HostsTable } from '../../dns/hostfiles.js';
import { createResolver, type Resolver } from '../../dns/resolver.js';
import { startDnsServer } from '../../dns/server.js';
import { queryUpstream } from '../../dns/upstream.js';
import { openGate } from '../../firewall/apply.js';
import type { AddressGate } from '../../firewall/gate.js';
import { readRejections } from '../../firewall/report.js';
import { enableForwarding, restoreForwarding } from '../../netns/forwarding.js';
import { claimSlot, releaseSlot } from '../../netns/lease.js';
import { readRoutes } from '../../netns/routes.js';
import type { Policy } from '../../policy/types.js';
import type { ApplyControls, PlanInput, RunOutcome } from '../types.js';
import { runChild } from '../../exec/child.js';
import { describeError, SandboxError } from '../../errors.js';
import { poolDirFor, type KernelOptions } from './options.js';
import { buildKernelPlan, type KernelPlan } from './plan.js';
import {
  prepareView,
  readHostFiles,
  setUpFirewall,
  setUpNetwork,
  track,
} from './setup.js';
import { RunRecord } from './state.js';
import { toolPaths, withToolPaths } from './tools.js';

class Aborted extends Error {}

/** What an aborted run returns: 128 + the signal's number, as a shell would. */
function abortStatus(controls: ApplyControls): number {
  return 128 + (constants.signals[controls.abortSignal() ?? 'SIGTERM'] ?? 15);
}

function checkAbort(controls: ApplyControls): void {
  if (controls.abort.aborted) throw new Aborted();
}

// Parallel steps each register their undo; all of them finish (or fail)
// before the first failure is thrown, so none is left half-registered.
async function allSettled(steps: Array<Promise<unknown>>): Promise<void> {
  const results = await Promise.allSettled(steps);
  const failed = results.find((r) => r.status === 'rejected');
  if (failed) throw (failed as PromiseRejectedResult).reason;
}

/** Hosts-file names the policy allows: the sandbox's libc reads the file directly, so they are open from the start. */
async function openHostsEntries(
  gate: AddressGate,
  policy: Policy,
  hosts: HostsTable,
  ttlFloorSec: number,
): Promise<void> {
  const grants = [...hosts].flatMap(([name, entry]) => {
    const allowance = allowanceFor(policy.network, name);
    if (!allowance) return [];
    const addresses = ([4, 6] as const).flatMap((family) =>
      entry[family].map((address) => ({ family, address })),
    );
    return grantsFor({ allowance, addresses, ttlFloorSec, permanent: true });
  });
  await gate.grant(grants);
}

async function report(
  ctx: Context,
  plan: KernelPlan,
  resolver: Resolver,
): Promise<Record<string, unknown>> {
  const exec = withToolPaths(ctx.exec, plan.tools);
  const firewall = await readRejections(exec, plan.firewall).catch(
    () => undefined,
  );
  const dns = resolver.stats();
  if ((firewall?.packets ?? 0) > 0 || dns.refused > 0) {
    ctx.log.warn('the sandbox blocked traffic', {
      rejectedPackets: firewall?.packets,
      refusedDnsQueries: dns.refused,
      destinations: firewall?.destinations.slice(0, 10),
      refusedNames: Object.keys(dns.refusedNames).slice(0, 10),
    });
  }
  return { firewall, dns };
}

/**
 * Sets up the run's namespaces, firewall and resolver, runs the command,
 * and tears everything down again, whatever happens. Every step registers
 * its undo (and records its objects) before it starts.
 */
export async function applyKernel(
  ctx: Context,
  input: PlanInput,
  options: KernelOptions,
  controls: ApplyControls,
): Promise<RunOutcome> {
  const exec = withToolPaths(ctx.exec, toolPaths(input.probe));
  const log = ctx.log;
  const undo = new UndoStack();
  try {
    checkAbort(controls);
    const createdDir = await mkdir(input.stateDir, {
      recursive: true,
      mode: 0o700,
    });
    if (createdDir)
      undo.push('remove the state directory', () =>
        rmdir(input.stateDir).catch(() => undefined),
      );
    const record = RunRecord.in(input.stateDir, input.runId);
    undo.push('remove the state record', () => record.discard());

    const poolDir = poolDirFor(input.stateDir, options);
    const lease = await claimSlot({
      poolDir,
      pool: options.pool,
      runId: input.runId,
      routes: await readRoutes(),
    });
    const plan = buildKernelPlan(input, options, lease.subnet.slot, true);
    const ipv6 = plan.netns.ipv6;
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
        await restoreForwarding({ poolDir, ipv6 });
      },
    );

    const hostFiles = await readHostFiles(options);
    if (hostFiles.resolv.nameservers.length === 0) {
      log.warn(
        `no nameserver in ${options.resolvConf}: allowed names will not resolve in the sandbox`,
      );
    }
    await allSettled([
      setUpNetwork(exec, plan, undo, record),
      setUpFirewall(exec, plan, undo, record),
      prepareView(plan, hostFiles.resolv, undo, record),
      enableForwarding({ poolDir, ipv6 }),
    ]);
    checkAbort(controls);

    const gate = openGate({ exec, log, plan: plan.firewall });
    const upstreams = hostFiles.resolv.nameservers.map((address) => ({
      address,
      port: 53,
    }));
    const resolver = createResolver({
      policy: input.policy.network,
      hosts: hostFiles.hosts,
      upstream: (name, type) => queryUpstream(upstreams, name, type),
      gate,
      ttlFloorSec: options.ttlFloorSec,
      log,
    });
    undo.push('close the address gate', () => gate.close());
    const server = await startDnsServer({
      addresses: plan.dns.listen,
      port: plan.dns.port,
      resolver,
      log,
    });
    undo.push('stop the resolver', () => server.close());
    await openHostsEntries(
      gate,
      input.policy,
      hostFiles.hosts,
      options.ttlFloorSec,
    );
    checkAbort(controls);

    log.debug('kernel sandbox ready', {
      netns: plan.names.netns,
      slot: plan.addresses.slot,
      backend: plan.firewall.backend,
      resolver: server.endpoints,
    });
    const [file, ...args] = plan.command.argv;
    const child = await runChild(
      {
        file: file!,
        args,
        cwd: input.command.cwd,
        env: input.command.env,
        readyPipe: true,
      },
      controls,
    );
    if (!child.ready && !controls.abort.aborted) {
      throw new SandboxError(
        'ENGINE_UNAVAILABLE',
        `the sandbox's filesystem view could not be set up (launcher status ${child.status}; see the mount errors above); the command did not run`,
      );
    }
    const exitCode = controls.abort.aborted
      ? abortStatus(controls)
      : child.status;
    return { exitCode, blocked: await report(ctx, plan, resolver) };
  } catch (error) {
    if (error instanceof Aborted) return { exitCode: abortStatus(controls) };
    // Nothing of the command ran: the run flow may try the next engine.
    if (error instanceof SandboxError && error.code === 'ENGINE_UNAVAILABLE')
      throw error;
    throw new SandboxError(
      'ENGINE_UNAVAILABLE',
      `the kernel sandbox could not be set up: ${describeError(error)}`,
      {
        cause: error,
        context: error instanceof SandboxError ? error.context : {},
      },
    );
  } finally {
    // The command's status (or the setup error) stands; what could not be
    // removed is logged and stays in the state record for the cleanup.
    const failures = await undo.unwind(log);
    if (failures.length > 0) {
      log.error(
        'kernel sandbox teardown incomplete; run `flow-sandbox cleanup` to remove what is left',
        { failures, stateDir: input.stateDir },
      );
    }
  }
}
