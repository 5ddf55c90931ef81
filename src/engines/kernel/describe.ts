import type { MountStep } from '../../mounts/plan.js';
import type { KernelPlan } from './plan.js';

function stepLine(step: MountStep): string {
  switch (step.kind) {
    case 'proc':
      return `proc       /proc  (${step.why})`;
    case 'file':
      return `file       ${step.target} <- ${step.source}  (${step.why})`;
    case 'dev':
      return `dev        /dev <- ${step.staging}  (${step.why})`;
    default: {
      const optional = step.optional ? '; skipped if missing' : '';
      return `${step.kind.padEnd(10)} ${step.path}  (${step.why}${optional})`;
    }
  }
}

const bracket = (a: string) => (a.includes(':') ? `[${a}]` : a);

function objects({ netns, firewall }: KernelPlan): string {
  const rules =
    firewall.backend === 'nft'
      ? `nft table inet ${firewall.table}`
      : `iptables chains ${firewall.chain}-*`;
  return `network namespace ${netns.netns}, veth ${netns.hostIf} (runner) / ${netns.sandboxIf} (sandbox), ${rules}`;
}

function addresses({ netns, addresses: slot }: KernelPlan): string {
  const { v4, v6 } = netns.subnet;
  const six = netns.ipv6
    ? `, ${v6.host} / ${v6.sandbox}`
    : ', no IPv6 in the sandbox';
  const example = slot.example
    ? ` - an example: a run claims a free slot of ${slot.pool.v4} and ${slot.pool.v6}`
    : '';
  return `${v4.host} (runner) / ${v4.sandbox} (sandbox)${six}${example}`;
}

function commands(steps: Array<{ argv: string[]; input?: string }>): string {
  return steps
    .map(
      (s) => `$ ${s.argv.join(' ')}${s.input ? `\n${s.input.trimEnd()}` : ''}`,
    )
    .join('\n');
}

// How forwarding goes on, and the command that does it where /proc/sys is
// read-only: an SRE should see that a container's mount is worked around.
function forwardingLine({ sysctl, netns }: KernelPlan): string {
  const keys = netns.ipv6
    ? 'net/ipv4/ip_forward and net/ipv6/conf/all/forwarding'
    : 'net/ipv4/ip_forward';
  if (sysctl.method === 'direct') {
    return `${keys} set to 1 in /proc/sys where off; the last run to end puts back what was there`;
  }
  const argv = sysctl.example.map((a) =>
    /^[\w./=:,+-]+$/.test(a) ? a : JSON.stringify(a),
  );
  return [
    `${keys} set to 1 where off; the last run to end puts back what was there.`,
    '/proc/sys is read-only here (a job container), so each write runs in a',
    "private mount namespace over a fresh procfs (the container's /proc is untouched):",
    `$ ${argv.join(' ')}`,
  ].join('\n');
}

/**
 * The kernel plan as the dry run shows it: each long text (ip batches,
 * ruleset, mount steps, init script) as a block of its own, small facts as
 * values. Plain data; `apply` re-plans with the slot it claims.
 */
export function describeKernelPlan(plan: KernelPlan): Record<string, unknown> {
  const { netns, firewall, dns, mounts, state } = plan;
  // The init script is long: the launch line names it, its own entry shows it.
  const script = plan.command.argv.indexOf(mounts.initScript);
  const launch = plan.command.argv.map((arg, i) =>
    i === script
      ? '"$INIT_SCRIPT"'
      : /^[\w./=:,+-]+$/.test(arg)
        ? arg
        : JSON.stringify(arg),
  );
  return {
    objects: objects(plan),
    addresses: addresses(plan),
    network: commands([
      { argv: netns.argv.host, input: netns.hostBatch },
      { argv: netns.argv.sandbox, input: netns.sandboxBatch },
    ]),
    firewall: `backend: ${firewall.backend}\n${commands(firewall.setup)}`,
    dns: [
      `resolver on ${dns.listen.map(bracket).join(', ')} port ${dns.port}, UDP and TCP`,
      `upstream: ${dns.upstream}; hosts file first: ${dns.hostsFile}`,
      `allowed names are answered with stand-in addresses (from ${dns.standIn.v4} and ${dns.standIn.v6}) that the firewall translates to the real ones: the real addresses are not opened, so they stay refused as literals`,
      `stand-ins stay open max(TTL, ${dns.ttlFloorSec} s); hosts-file names are opened at their real addresses for the whole run`,
      'names no allow rule matches are refused and never looked up',
    ].join('\n'),
    mounts: [
      'every mount still writable becomes read-only, then:',
      ...mounts.steps.map(stepLine),
      mounts.sockets.hide
        ? `Unix sockets found under ${mounts.sockets.roots.map((r) => r.path).join(', ')} are hidden (under /run: or the run fails), except ${mounts.sockets.allowed.join(', ') || 'none'}`
        : 'all Unix sockets stay reachable (allow_all_unix_sockets)',
    ].join('\n'),
    forwarding: forwardingLine(plan),
    launch: launch.join(' '),
    initScript: mounts.initScript,
    teardown: commands([
      ...firewall.teardown,
      { argv: netns.argv.teardown, input: netns.teardownBatch },
    ]),
    state: `${state.file} (objects as they are created); leases and forwarding state in ${state.poolDir}`,
  };
}
