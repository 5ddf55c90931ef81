import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { Context } from '../../context.js';
import { describeError } from '../../errors.js';
import { which } from '../../exec/which.js';
import { OBJECT_PREFIX } from '../../netns/names.js';
import { privateProcArgv, sysctlMethod } from '../../netns/sysctl.js';
import type { ProbeCheck, ProbeOptions, ProbeResult } from '../types.js';

/** Programs the engine runs; the probe's facts map each to its absolute path. */
export const REQUIRED_TOOLS = [
  'ip',
  'nsenter',
  'unshare',
  'setpriv',
  'mount',
  'sh',
  'env',
] as const;
export const FIREWALL_TOOLS = [
  'nft',
  'iptables-restore',
  'ip6tables-restore',
] as const;

const CAP_NET_ADMIN = 12n;
const CAP_SYS_ADMIN = 21n;

/**
 * Where the tools are looked for: system directories only, never the job's
 * PATH. The controller runs them as root, and a PATH with a project's
 * node_modules/.bin first once found an npm package called `nft` there: the
 * "firewall" loaded without error and enforced nothing.
 */
export const SYSTEM_PATH =
  '/usr/sbin:/usr/bin:/sbin:/bin:/usr/local/sbin:/usr/local/bin';

const UTIL_FIX =
  'install util-linux and iproute2 (Debian: apt-get install util-linux iproute2)';
const FIREWALL_FIX = 'install nftables (preferred) or iptables';

async function privileges(): Promise<ProbeCheck> {
  const status = await readFile('/proc/self/status', 'utf8').catch(() => '');
  const eff = /^CapEff:\s*([0-9a-f]+)/m.exec(status)?.[1];
  const caps = eff ? BigInt(`0x${eff}`) : 0n;
  const has = (bit: bigint) => ((caps >> bit) & 1n) === 1n;
  const ok = has(CAP_NET_ADMIN) && has(CAP_SYS_ADMIN);
  const yes = (bit: bigint) => (has(bit) ? 'yes' : 'no');
  return {
    name: 'privileges',
    ok,
    detail: `uid ${process.getuid?.() ?? '?'}, CAP_NET_ADMIN ${yes(CAP_NET_ADMIN)}, CAP_SYS_ADMIN ${yes(CAP_SYS_ADMIN)}`,
    ...(ok
      ? {}
      : {
          fix: 'run flow-sandbox as root in a privileged job container (or with CAP_NET_ADMIN and CAP_SYS_ADMIN)',
        }),
  };
}

// Docker job containers often have IPv6 switched off; then the host end of
// the veth cannot get an IPv6 address, and the sandbox gets none at all.
async function ipv6Enabled(): Promise<boolean> {
  const read = (key: string) =>
    readFile(`/proc/sys/net/ipv6/conf/${key}/disable_ipv6`, 'utf8').then(
      (v) => v.trim() === '0',
      () => false,
    );
  const [all, dflt] = await Promise.all([read('all'), read('default')]);
  return all && dflt;
}

// Creates and removes a namespace with a random name: proves the kernel
// and /run/netns allow it. Doctor only (deep); it leaves nothing behind.
async function netnsCheck(ctx: Context, ip: string): Promise<ProbeCheck> {
  const name = `${OBJECT_PREFIX}probe${randomBytes(4).toString('hex')}`;
  try {
    await ctx.exec.run([ip, 'netns', 'add', name]);
    await ctx.exec.run([ip, 'netns', 'del', name]);
    return { name: 'netns', ok: true, detail: `created and removed ${name}` };
  } catch (error) {
    await ctx.exec.run([ip, 'netns', 'del', name], { allowFailure: true });
    return {
      name: 'netns',
      ok: false,
      detail: describeError(error),
      fix: 'the runner must allow creating network namespaces (a privileged job container)',
    };
  }
}

// Docker mounts /proc/sys read-only in job containers, even with every
// capability; forwarding must still go on in the runner's namespace.
async function sysctlCheck(): Promise<ProbeCheck & { method: string }> {
  const method = await sysctlMethod();
  return {
    name: 'sysctl',
    ok: true,
    method,
    detail:
      method === 'direct'
        ? '/proc/sys is writable: forwarding is switched on directly'
        : "/proc/sys is read-only here (a job container): each sysctl the run changes (forwarding) is written through a fresh procfs mounted in a private mount namespace; the container's own /proc stays as it is",
  };
}

// Writes ip_forward's own value back through a private procfs: proves the
// mount works here without changing anything. Doctor only (deep).
async function privateProcCheck(
  ctx: Context,
  facts: Record<string, string>,
): Promise<ProbeCheck> {
  const key = 'net/ipv4/ip_forward';
  const value = (await readFile(`/proc/sys/${key}`, 'utf8')).trim();
  const tools = { unshare: facts.unshare!, mount: facts.mount!, sh: facts.sh! };
  const result = await ctx.exec.run(privateProcArgv(tools, key, value), {
    allowFailure: true,
  });
  return result.exitCode === 0
    ? {
        name: 'private procfs',
        ok: true,
        detail: `wrote ${key} (unchanged, ${value}) through a private procfs`,
      }
    : {
        name: 'private procfs',
        ok: false,
        detail: `a private procfs could not be mounted or written (status ${result.exitCode}): ${result.stderr.trim()}`,
        fix: 'run the job container with CAP_SYS_ADMIN in the host user namespace (no user-namespace remapping), or with --security-opt systempaths=unconfined',
      };
}

/**
 * Probes the host for the kernel engine by looking only: privileges and
 * programs, no process started. A deep probe also creates and removes a
 * throw-away namespace.
 */
export async function probeKernel(
  ctx: Context,
  options: ProbeOptions,
): Promise<ProbeResult> {
  const checks: ProbeCheck[] = [await privileges()];
  const facts: Record<string, string> = {};
  for (const name of [...REQUIRED_TOOLS, ...FIREWALL_TOOLS]) {
    const found = which(name, SYSTEM_PATH);
    if (found) facts[name] = found;
    const required = (REQUIRED_TOOLS as readonly string[]).includes(name);
    if (required || found) {
      checks.push(
        found
          ? { name, ok: true, detail: found }
          : {
              name,
              ok: false,
              detail: `${name} not found in ${SYSTEM_PATH}`,
              fix: UTIL_FIX,
            },
      );
    }
  }
  const firewall = facts.nft
    ? 'nft'
    : facts['iptables-restore']
      ? 'iptables'
      : undefined;
  checks.push(
    firewall
      ? {
          name: 'firewall',
          ok: true,
          detail: firewall === 'nft' ? 'nft' : 'iptables (nft not found)',
        }
      : {
          name: 'firewall',
          ok: false,
          detail: 'neither nft nor iptables-restore found',
          fix: FIREWALL_FIX,
        },
  );
  const ipv6 = await ipv6Enabled();
  facts.ipv6 = ipv6 ? 'on' : 'off';
  checks.push({
    name: 'ipv6',
    ok: true,
    detail: ipv6
      ? 'enabled in this network namespace: the sandbox gets IPv6, filtered'
      : 'disabled in this network namespace: the sandbox gets no IPv6 either',
  });
  const { method, ...sysctl } = await sysctlCheck();
  facts.sysctl = method;
  checks.push(sysctl);
  if (options.deep && facts.ip && checks.every((c) => c.ok)) {
    checks.push(await netnsCheck(ctx, facts.ip));
    if (method === 'private-proc')
      checks.push(await privateProcCheck(ctx, facts));
  }
  return { engine: 'kernel', usable: checks.every((c) => c.ok), checks, facts };
}
