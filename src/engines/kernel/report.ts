import type { Resolver } from '../../dns/resolver.js';
import type { CommandRunner } from '../../exec/runner.js';
import { readRejections } from '../../firewall/report.js';
import { emptyBlocked, type BlockedReport } from '../../report/types.js';
import type { KernelPlan } from './plan.js';

const REASON = 'not on the allow list (rejected by the firewall)';

/**
 * What the run refused: names from the resolver, destinations from the
 * firewall's counters. Read before the teardown removes the counters.
 */
export async function blockedReport(
  exec: CommandRunner,
  plan: KernelPlan,
  resolver: Resolver,
): Promise<BlockedReport> {
  const dns = resolver.stats();
  const firewall = await readRejections(exec, plan.firewall).catch(
    () => undefined,
  );
  const visibility = [
    'the resolver reports every name it refused, before any lookup',
    plan.firewall.backend === 'nft'
      ? 'the firewall counts rejected packets per destination (address, protocol, port)'
      : `the iptables backend counts rejected packets only in total: ${firewall?.packets ?? 'unknown'} this run`,
    'refused writes are not observed: read-only mounts fail inside the command',
  ];
  const report = emptyBlocked(visibility);
  report.names = Object.entries(dns.refusedNames).map(([name, count]) => ({
    name,
    count,
  }));
  report.destinations = (firewall?.destinations ?? []).map((d) => ({
    host: d.address,
    ...(d.port === undefined ? {} : { port: d.port }),
    protocol: d.protocol,
    count: d.packets,
    reason: REASON,
  }));
  return report;
}
