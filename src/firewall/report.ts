import type { CommandRunner } from '../exec/runner.js';
import { rejectChain } from './apply.js';
import { NFT_REJECT_COUNTER, NFT_SETS } from './nft.js';
import { SMALL_TABLE, type FirewallPlan } from './plan.js';

/** One destination the sandbox tried and the firewall refused. */
export interface RejectedDestination {
  address: string;
  protocol: string;
  port?: number;
  packets: number;
}

/** What the firewall refused during the run. */
export interface RejectionReport {
  packets: number;
  /** Busiest first; empty where the backend cannot count per destination. */
  destinations: RejectedDestination[];
  perDestination: boolean;
}

interface NftJson {
  nftables?: Array<Record<string, Record<string, unknown>>>;
}

type NftElem = {
  elem?: { val?: { concat?: unknown[] }; counter?: { packets?: number } };
};

function nftDestinations(json: NftJson): RejectedDestination[] {
  const set = json.nftables?.find((item) => item.set)?.set;
  const elements = (set?.elem as NftElem[] | undefined) ?? [];
  return elements.flatMap((item) => {
    const [address, protocol, port] = item.elem?.val?.concat ?? [];
    if (typeof address !== 'string') return [];
    const packets = item.elem?.counter?.packets ?? 0;
    const proto = String(protocol);
    return [
      typeof port === 'number'
        ? { address, protocol: proto, port, packets }
        : { address, protocol: proto, packets },
    ];
  });
}

async function nftList(exec: CommandRunner, args: string[]): Promise<NftJson> {
  const result = await exec.run(['nft', '-j', 'list', ...args], {
    allowFailure: true,
  });
  if (result.exitCode !== 0) return {};
  return JSON.parse(result.stdout) as NftJson;
}

// To list a counter (or a chain), nft 1.0 reads every element of every
// set of the table: a few ms for a small table, tens with 10,000 static
// elements. A counting set is read alone. So a small table's counter says
// first whether there is anything to read; a large table's counting sets
// are read directly, and the total is what they hold.
async function readNft(
  exec: CommandRunner,
  plan: FirewallPlan,
): Promise<RejectionReport> {
  const table = plan.table;
  let packets: number | undefined;
  if (plan.staticElements <= SMALL_TABLE) {
    const counter = await nftList(exec, [
      'counter',
      'inet',
      table,
      NFT_REJECT_COUNTER,
    ]);
    packets = Number(
      counter.nftables?.find((item) => item.counter)?.counter?.packets ?? 0,
    );
    if (packets === 0)
      return { packets, destinations: [], perDestination: true };
  }
  const sets = [
    NFT_SETS.rejected(4),
    NFT_SETS.rejected(6),
    NFT_SETS.rejectedOther(4),
    NFT_SETS.rejectedOther(6),
  ];
  const lists = await Promise.all(
    sets.map((set) => nftList(exec, ['set', 'inet', table, set])),
  );
  const destinations = lists
    .flatMap(nftDestinations)
    .sort((a, b) => b.packets - a.packets);
  packets ??= destinations.reduce((sum, d) => sum + d.packets, 0);
  return { packets, destinations, perDestination: true };
}

async function readIptables(
  exec: CommandRunner,
  plan: FirewallPlan,
): Promise<RejectionReport> {
  const tools = plan.ipv6 ? ['iptables', 'ip6tables'] : ['iptables'];
  let packets = 0;
  for (const tool of tools) {
    const result = await exec.run(
      [tool, '-w', '-n', '-v', '-x', '-L', rejectChain(plan)],
      { allowFailure: true },
    );
    for (const line of result.stdout.split('\n')) {
      const count = /^\s*(\d+)\s+\d+\s+REJECT\b/.exec(line);
      if (count) packets += Number(count[1]);
    }
  }
  return { packets, destinations: [], perDestination: false };
}

/** Reads the run's rejection counters; call it before the teardown removes them. */
export async function readRejections(
  exec: CommandRunner,
  plan: FirewallPlan,
): Promise<RejectionReport> {
  return plan.backend === 'nft'
    ? readNft(exec, plan)
    : readIptables(exec, plan);
}
