import type { KernelNames } from './names.js';
import type { RunSubnet } from './pool.js';

/** The namespace and link plan: `ip -batch` scripts, run as one process each. */
export interface NetnsPlan {
  netns: string;
  hostIf: string;
  sandboxIf: string;
  subnet: RunSubnet;
  /** False when IPv6 cannot be filtered: the sandbox then gets no IPv6 at all. */
  ipv6: boolean;
  /** `ip -batch -` in the runner's namespace: namespace, veth pair, host end. */
  hostBatch: string;
  /** `ip -n NETNS -batch -`: loopback, sandbox end, default routes. */
  sandboxBatch: string;
  /** `ip -force -batch -`: removes the pair and the namespace, safe to repeat. */
  teardownBatch: string;
}

/** Plans the run's namespace and veth pair (pure). */
export function planNetns(options: {
  names: KernelNames;
  subnet: RunSubnet;
  ipv6: boolean;
}): NetnsPlan {
  const { names, subnet, ipv6 } = options;
  const { netns, hostIf, sandboxIf } = names;
  const { v4, v6 } = subnet;
  const hostLines = [
    `netns add ${netns}`,
    `link add ${hostIf} type veth peer name ${sandboxIf} netns ${netns}`,
    `addr add ${v4.host}/${v4.prefix} dev ${hostIf}`,
    // nodad: the resolver binds this address right away, and an address
    // still in duplicate detection cannot be bound.
    ...(ipv6
      ? [`addr add ${v6.host}/${v6.prefix} dev ${hostIf} nodad`]
      : [`link set dev ${hostIf} addrgenmode none`]),
    `link set ${hostIf} up`,
  ];
  const sandboxLines = [
    'link set lo up',
    `addr add ${v4.sandbox}/${v4.prefix} dev ${sandboxIf}`,
    // Without an IPv6 address (not even link-local) the sandbox cannot
    // speak IPv6 past its own loopback, and it lacks the capability to add one.
    ...(ipv6
      ? [`addr add ${v6.sandbox}/${v6.prefix} dev ${sandboxIf} nodad`]
      : [`link set dev ${sandboxIf} addrgenmode none`]),
    `link set ${sandboxIf} up`,
    `route add default via ${v4.host}`,
    ...(ipv6 ? [`route add default via ${v6.host}`] : []),
  ];
  return {
    netns,
    hostIf,
    sandboxIf,
    subnet,
    ipv6,
    hostBatch: lines(hostLines),
    sandboxBatch: lines(sandboxLines),
    teardownBatch: lines([`link del ${hostIf}`, `netns del ${netns}`]),
  };
}

function lines(list: string[]): string {
  return `${list.join('\n')}\n`;
}
