import {
  iptablesChains,
  IPTABLES_RESTORE,
  renderIptables,
  renderIptablesTeardown,
} from './iptables.js';
import { NFT_SETS, nftTeardownArgv, renderNftRuleset } from './nft.js';
import type { FirewallBackend, FirewallSpec } from './spec.js';

/** One command with its stdin: how a plan step is shown and run. */
export interface CommandStep {
  argv: string[];
  input?: string;
  /** The step's output must contain this, or the step did not do its work. */
  expect?: string;
}

/** The firewall part of a kernel plan: the rules as text and the commands. */
export interface FirewallPlan {
  backend: FirewallBackend;
  table: string;
  chain: string;
  ipv6: boolean;
  /** Addresses and blocks the table loads (the allow and deny entries). */
  staticElements: number;
  /** nft: the ruleset; iptables: the IPv4 (and IPv6) restore batches. */
  setup: CommandStep[];
  /** Read back after loading (where loading cannot echo what it did). */
  verify: CommandStep[];
  teardown: CommandStep[];
}

/**
 * Up to this many static elements an nft table is small: --echo prints
 * what the kernel accepted, proof without a second process, and listing
 * anything of it is cheap. A larger table is checked and read set by set.
 */
export const SMALL_TABLE = 256;

function nftLoad(spec: FirewallSpec): Pick<FirewallPlan, 'setup' | 'verify'> {
  const table = spec.names.table;
  const ruleset = renderNftRuleset(spec);
  if (spec.allow.length + spec.deny.length <= SMALL_TABLE) {
    const expect = `add rule inet ${table} sandbox_out goto refuse`;
    return {
      setup: [{ argv: ['nft', '--echo', '-f', '-'], input: ruleset, expect }],
      verify: [],
    };
  }
  // The table is one transaction, so any of its objects being there means
  // all of it is. nft 1.0 reads every element of every set of the table
  // to list a chain (tens of ms with 10,000 elements); a set that starts
  // empty is read alone.
  const counting = NFT_SETS.rejected(4);
  return {
    setup: [{ argv: ['nft', '-f', '-'], input: ruleset }],
    verify: [
      {
        argv: ['nft', 'list', 'set', 'inet', table, counting],
        expect: `set ${counting} {`,
      },
    ],
  };
}

/** Plans the run's firewall for one backend (pure). */
export function planFirewall(
  spec: FirewallSpec,
  backend: FirewallBackend,
): FirewallPlan {
  const common = {
    backend,
    table: spec.names.table,
    chain: spec.names.chain,
    ipv6: spec.ipv6,
    staticElements: spec.allow.length + spec.deny.length,
  };
  if (backend === 'nft') {
    return {
      ...common,
      ...nftLoad(spec),
      teardown: [{ argv: nftTeardownArgv(spec.names.table) }],
    };
  }
  const families = spec.ipv6 ? ([4, 6] as const) : ([4] as const);
  const teardown = renderIptablesTeardown(spec);
  const chains = iptablesChains(spec.names.chain);
  return {
    ...common,
    setup: families.map((f) => ({
      argv: [...IPTABLES_RESTORE[f]],
      input: renderIptables(spec, f),
    })),
    // The batch is one transaction: its smallest chain being in place
    // means the rest is (listing the -out chain, with a rule per entry,
    // took 100 ms with 10,000 entries).
    verify: families.map((f) => ({
      argv: [f === 4 ? 'iptables' : 'ip6tables', '-w', '-S', chains.to],
      expect: `-A ${chains.to} -j ${chains.reject}`,
    })),
    teardown: families.map((f) => ({
      argv: [...IPTABLES_RESTORE[f]],
      input: teardown,
    })),
  };
}
