import type { Context } from '../../context.js';
import type { UndoStack } from '../../exec/undo.js';
import { allowanceFor, grantsFor, NameRules } from '../../dns/decide.js';
import type { HostsTable, ResolvConf } from '../../dns/hostfiles.js';
import { createResolver, type Resolver } from '../../dns/resolver.js';
import { StandIns } from '../../dns/stand-in.js';
import { forbiddenAddresses, runnerAddresses } from '../../dns/forbidden.js';
import { startDnsServer } from '../../dns/server.js';
import { queryUpstream } from '../../dns/upstream.js';
import type { CommandRunner } from '../../exec/runner.js';
import { openGate } from '../../firewall/apply.js';
import type { AddressGate } from '../../firewall/gate.js';
import type { Policy } from '../../policy/types.js';
import type { KernelOptions } from './options.js';
import type { KernelPlan } from './plan.js';

/**
 * Hosts-file names the policy allows are open from the start: the
 * sandbox's libc reads the runner's /etc/hosts itself, without asking DNS.
 * Their addresses pass the same filter as DNS answers: a hosts entry never
 * opens the runner, the run pool, the stand-ins or link-local addresses.
 */
async function openHostsEntries(
  gate: AddressGate,
  policy: Policy,
  hosts: HostsTable,
  ttlFloorSec: number,
  forbidden: (address: string) => boolean,
): Promise<void> {
  const rules = new NameRules(policy.network);
  const grants = [...hosts].flatMap(([name, entry]) => {
    const allowance = allowanceFor(rules, name);
    if (!allowance) return [];
    const addresses = ([4, 6] as const).flatMap((family) =>
      entry[family]
        .filter((address) => !forbidden(address))
        .map((address) => ({ family, address })),
    );
    return grantsFor({ allowance, addresses, ttlFloorSec, permanent: true });
  });
  await gate.grant(grants);
}

/**
 * Starts the run's resolver in this process, listening on the host end of
 * the veth, with the gate that opens what it answers.
 */
export async function startResolver(options: {
  ctx: Context;
  exec: CommandRunner;
  plan: KernelPlan;
  policy: Policy;
  host: { resolv: ResolvConf; hosts: HostsTable };
  kernel: KernelOptions;
  undo: UndoStack;
}): Promise<Resolver> {
  const { ctx, exec, plan, policy, host, kernel, undo } = options;
  if (host.resolv.nameservers.length === 0) {
    ctx.log.warn(
      `no nameserver in ${kernel.resolvConf}: allowed names will not resolve in the sandbox`,
    );
  }
  const forbidden = forbiddenAddresses(runnerAddresses, [
    kernel.pool.v4,
    kernel.pool.v6,
    plan.dns.standIn.v4,
    plan.dns.standIn.v6,
  ]);
  const gate = openGate({ exec, log: ctx.log, plan: plan.firewall });
  undo.push('close the address gate', () => gate.close());
  const upstreams = host.resolv.nameservers.map((address) => ({
    address,
    port: 53,
  }));
  const resolver = createResolver({
    policy: policy.network,
    hosts: host.hosts,
    upstream: (name, type) => queryUpstream(upstreams, name, type),
    gate,
    standIns: new StandIns(plan.dns.standIn),
    ttlFloorSec: kernel.ttlFloorSec,
    log: ctx.log,
    forbidden,
  });
  const server = await startDnsServer({
    addresses: plan.dns.listen,
    port: plan.dns.port,
    resolver,
    log: ctx.log,
  });
  undo.push('stop the resolver', () => server.close());
  await openHostsEntries(
    gate,
    policy,
    host.hosts,
    kernel.ttlFloorSec,
    forbidden,
  );
  ctx.log.debug('resolver listening', { endpoints: server.endpoints });
  return resolver;
}
