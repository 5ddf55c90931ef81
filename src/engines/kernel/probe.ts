import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { access, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Context } from '../../context.js';
import { describeError } from '../../errors.js';
import { OBJECT_PREFIX } from '../../netns/names.js';
import type { ProbeCheck, ProbeResult } from '../types.js';

/** Tools the engine runs, each a probe check whose detail is its absolute path. */
export const REQUIRED_TOOLS = [
  'ip',
  'nsenter',
  'unshare',
  'setpriv',
  'mount',
  'sh',
] as const;
export const FIREWALL_TOOLS = [
  'nft',
  'iptables-restore',
  'ip6tables-restore',
] as const;

const CAP_NET_ADMIN = 12n;
const CAP_SYS_ADMIN = 21n;

// Where sbin tools live when PATH (a CI job's) lacks the sbin directories.
const EXTRA_DIRS = [
  '/usr/local/sbin',
  '/usr/sbin',
  '/sbin',
  '/usr/local/bin',
  '/usr/bin',
  '/bin',
];

/** The absolute path of a program on PATH, or undefined. */
export async function which(
  name: string,
  envPath: string | undefined,
): Promise<string | undefined> {
  const dirs = [...(envPath ?? '').split(':').filter(Boolean), ...EXTRA_DIRS];
  for (const dir of dirs) {
    const full = path.join(dir, name);
    if (
      await access(full, constants.X_OK).then(
        () => true,
        () => false,
      )
    )
      return full;
  }
  return undefined;
}

async function privileges(): Promise<ProbeCheck> {
  const status = await readFile('/proc/self/status', 'utf8').catch(() => '');
  const eff = /^CapEff:\s*([0-9a-f]+)/m.exec(status)?.[1];
  const caps = eff ? BigInt(`0x${eff}`) : 0n;
  const has = (bit: bigint) => ((caps >> bit) & 1n) === 1n;
  const ok = has(CAP_NET_ADMIN) && has(CAP_SYS_ADMIN);
  return {
    name: 'privileges',
    ok,
    detail: `uid ${process.getuid?.() ?? '?'}, CAP_NET_ADMIN ${has(CAP_NET_ADMIN) ? 'yes' : 'no'}, CAP_SYS_ADMIN ${has(CAP_SYS_ADMIN) ? 'yes' : 'no'}`,
    ...(ok
      ? {}
      : {
          fix: 'run flow-sandbox as root in a privileged job container (or with CAP_NET_ADMIN and CAP_SYS_ADMIN)',
        }),
  };
}

async function tool(
  name: string,
  envPath: string | undefined,
  fix: string,
): Promise<ProbeCheck> {
  const found = await which(name, envPath);
  return found
    ? { name, ok: true, detail: found }
    : { name, ok: false, detail: `${name} not found on PATH`, fix };
}

// Creates and removes a namespace with a random name: proves the kernel
// and the mounts under /run/netns allow it. Only for a deep probe.
async function netnsCheck(ctx: Context): Promise<ProbeCheck> {
  const name = `${OBJECT_PREFIX}probe${randomBytes(4).toString('hex')}`;
  try {
    await ctx.exec.run(['ip', 'netns', 'add', name]);
    await ctx.exec.run(['ip', 'netns', 'del', name]);
    return { name: 'netns', ok: true, detail: `created and removed ${name}` };
  } catch (error) {
    await ctx.exec.run(['ip', 'netns', 'del', name], { allowFailure: true });
    return {
      name: 'netns',
      ok: false,
      detail: describeError(error),
      fix: 'the runner must allow creating network namespaces (a privileged container)',
    };
  }
}

/** Probes the host for the kernel engine; only a deep probe changes anything (and undoes it). */
export async function probeKernel(
  ctx: Context,
  options: { deep: boolean },
): Promise<ProbeResult> {
  const envPath = ctx.env.PATH;
  const util =
    'install util-linux and iproute2 (Debian: apt-get install util-linux iproute2)';
  const checks = await Promise.all([
    privileges(),
    ...REQUIRED_TOOLS.map((name) => tool(name, envPath, util)),
    ...FIREWALL_TOOLS.map((name) =>
      tool(name, envPath, 'install nftables (preferred) or iptables'),
    ),
  ]);
  const found = (name: string) => checks.some((c) => c.name === name && c.ok);
  const firewall = found('nft') || found('iptables-restore');
  checks.push({
    name: 'firewall',
    ok: firewall,
    detail: found('nft')
      ? 'nft'
      : firewall
        ? 'iptables (nft not found)'
        : 'neither nft nor iptables-restore found',
    ...(firewall ? {} : { fix: 'install nftables (preferred) or iptables' }),
  });
  if (
    options.deep &&
    checks.every((c) => c.ok || FIREWALL_TOOLS.includes(c.name as never))
  ) {
    checks.push(await netnsCheck(ctx));
  }
  const required = checks.filter(
    (c) => !FIREWALL_TOOLS.includes(c.name as never),
  );
  return { engine: 'kernel', usable: required.every((c) => c.ok), checks };
}
