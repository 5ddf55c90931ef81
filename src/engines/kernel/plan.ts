import path from 'node:path';
import { srtTempRoot } from '../../state/dir.js';
import { planFirewall, type FirewallPlan } from '../../firewall/plan.js';
import { staticEntries, type FirewallBackend } from '../../firewall/spec.js';
import { INIT_SCRIPT, launchArgv } from '../../mounts/launch.js';
import { planMounts, type MountPlan } from '../../mounts/plan.js';
import { kernelNames, type KernelNames } from '../../netns/names.js';
import { planNetns, type NetnsPlan } from '../../netns/plan.js';
import { standInBlocks } from '../../dns/stand-in.js';
import { slotSubnet } from '../../netns/pool.js';
import {
  privateProcArgv,
  type SysctlMethod,
  type SysctlTools,
} from '../../netns/sysctl.js';
import { netnsArgv } from '../../netns/apply.js';
import type { PlanInput } from '../types.js';
import { poolDirFor, type KernelOptions } from './options.js';
import { launchTools, toolPaths, type ToolPaths } from './tools.js';

/** Everything a kernel run does, as plain data (EnginePlan.details). */
export interface KernelPlan {
  runId: string;
  names: KernelNames;
  /** In a dry run the slot is an example: a run claims a free one when it starts. */
  addresses: { slot: number; example: boolean; pool: KernelOptions['pool'] };
  netns: NetnsPlan & { argv: ReturnType<typeof netnsArgv> };
  firewall: FirewallPlan;
  dns: {
    listen: string[];
    port: number;
    upstream: string;
    hostsFile: string;
    ttlFloorSec: number;
    standIn: KernelOptions['standIn'];
    sandboxResolvConf: string;
  };
  /** The init script (PID 1) builds the view from the fstab files in fstabDir. */
  mounts: MountPlan & { fstabDir: string; initScript: string };
  command: { argv: string[]; cwd: string };
  /** How forwarding is switched on: directly, or through a private procfs. */
  sysctl: { method: SysctlMethod; tools: SysctlTools; example: string[] };
  tools: ToolPaths;
  state: { dir: string; file: string; poolDir: string };
}

/** Which firewall backend a run uses: the flag, else nft when found. */
export function chooseBackend(
  input: Pick<PlanInput, 'firewall' | 'probe'>,
): FirewallBackend {
  const choice = input.firewall ?? 'auto';
  if (choice !== 'auto') return choice;
  const facts = input.probe.facts ?? {};
  return !facts.nft && facts['iptables-restore'] ? 'iptables' : 'nft';
}

// The state root holds every run's state and, by default, the pool;
// beside it, SRT runs keep their bridge sockets (another run's policy).
function stateDirsToHide(stateDir: string, poolDir: string): string[] {
  const root = path.dirname(stateDir);
  return [
    root,
    srtTempRoot(root),
    ...(poolDir.startsWith(`${root}/`) ? [] : [poolDir]),
  ];
}

/**
 * How the run writes the runner's sysctls (pure): straight, or through a
 * private procfs where the probe found /proc/sys read-only.
 */
export function planSysctl(input: PlanInput): KernelPlan['sysctl'] {
  const tools = toolPaths(input.probe);
  const method: SysctlMethod =
    input.probe.facts?.sysctl === 'private-proc' ? 'private-proc' : 'direct';
  const sysctlTools = {
    unshare: tools.unshare ?? 'unshare',
    mount: tools.mount ?? 'mount',
    sh: tools.sh ?? 'sh',
  };
  return {
    method,
    tools: sysctlTools,
    example:
      method === 'direct'
        ? ['echo', '1', '>', '/proc/sys/net/ipv4/ip_forward']
        : privateProcArgv(sysctlTools, 'net/ipv4/ip_forward', '1'),
  };
}

/** Builds the whole kernel plan for one address slot (pure). */
export function buildKernelPlan(
  input: PlanInput,
  options: KernelOptions,
  slot: number,
  claimed: boolean,
): KernelPlan {
  const names = kernelNames(input.runId);
  const subnet = slotSubnet(slot, options.pool);
  const backend = chooseBackend(input);
  // The sandbox gets IPv6 where the runner has it, and where it can be
  // filtered: by nft always, by iptables only with ip6tables.
  const facts = input.probe.facts ?? {};
  const ipv6 =
    facts.ipv6 !== 'off' && (backend === 'nft' || !!facts['ip6tables-restore']);
  const netns = planNetns({ names, subnet, ipv6 });
  const tools = toolPaths(input.probe);
  const poolDir = poolDirFor(input.stateDir, options);
  const sandboxResolvConf = path.join(input.stateDir, 'resolv.conf');
  const fstabDir = path.join(input.stateDir, 'fstab.d');
  const mounts = planMounts({
    policy: input.policy,
    cwd: input.command.cwd,
    home: input.command.env.HOME ?? '/root',
    stateDirs: stateDirsToHide(input.stateDir, poolDir),
    resolvConf: { source: sandboxResolvConf, target: '/etc/resolv.conf' },
    devStaging: path.join(input.stateDir, 'dev'),
  });
  const firewall = planFirewall(
    { names, subnet, ipv6, ...staticEntries(input.policy.network) },
    backend,
  );
  return {
    runId: input.runId,
    names,
    addresses: { slot, example: !claimed, pool: options.pool },
    netns: { ...netns, argv: netnsArgv(netns) },
    firewall,
    dns: {
      listen: ipv6 ? [subnet.v4.host, subnet.v6.host] : [subnet.v4.host],
      port: options.dnsPort,
      upstream: `the nameservers of ${options.resolvConf}, read when the run starts`,
      hostsFile: options.hostsFile,
      ttlFloorSec: options.ttlFloorSec,
      standIn: standInBlocks(options.standIn),
      sandboxResolvConf,
    },
    mounts: { ...mounts, fstabDir, initScript: INIT_SCRIPT },
    command: {
      argv: launchArgv({
        tools: launchTools(tools),
        netnsPath: `/run/netns/${names.netns}`,
        fstabDir,
        cwd: input.command.cwd,
        argv: input.command.argv,
      }),
      cwd: input.command.cwd,
    },
    sysctl: planSysctl(input),
    tools,
    state: {
      dir: input.stateDir,
      file: path.join(input.stateDir, 'kernel.json'),
      poolDir,
    },
  };
}
