// A private test network for the kernel engine: a "runner" namespace
// (where the engine runs) joined to a "world" namespace (DNS server and
// test hosts, addresses from 198.18.0.0/15 and 2001:db8::/32). Nothing here
// has a route off the machine.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import type { EngineRunConfig } from './run-engine.js';
import type { WorldConfig } from './world.js';

const here = path.dirname(fileURLToPath(import.meta.url));

/** Test host addresses, all inside the world namespace. */
export const HOSTS = {
  dns: '198.18.0.53',
  dns6: '2001:db8::53',
  gitlab: '198.18.0.10',
  gitlab6: '2001:db8::10',
  api: '198.18.0.11',
  rotateA: '198.18.0.12',
  rotateB: '198.18.0.13',
  short: '198.18.0.14',
  cdn: '198.18.0.15',
  port: '198.18.0.16',
  docker: '198.18.0.17',
  outside: '198.18.0.66',
  outside6: '2001:db8::66',
};

const ZONE: WorldConfig['zone'] = {
  'gitlab.test': { A: [[HOSTS.gitlab]], AAAA: [[HOSTS.gitlab6]] },
  'api.gitlab.test': { A: [[HOSTS.api]] },
  'rotate-nft.gitlab.test': { A: [[HOSTS.rotateA], [HOSTS.rotateB]], ttl: 1 },
  'rotate-iptables.gitlab.test': {
    A: [[HOSTS.rotateA], [HOSTS.rotateB]],
    ttl: 1,
  },
  'short.gitlab.test': { A: [[HOSTS.short]], ttl: 1 },
  'alias.gitlab.test': { CNAME: 'edge.cdn.test' },
  'edge.cdn.test': { A: [[HOSTS.cdn]] },
  'port.test': { A: [[HOSTS.port]] },
  'outside.test': { A: [[HOSTS.outside]], AAAA: [[HOSTS.outside6]] },
};

async function sh(script: string): Promise<void> {
  await execa('sh', ['-ec', script]);
}

/** The two namespaces, the world's servers, and a scratch directory. */
export class Testbed {
  readonly id = randomBytes(3).toString('hex');
  readonly runner = `fsbxt${this.id}r`;
  readonly world = `fsbxt${this.id}w`;
  readonly dir = `/tmp/fsbxt-${this.id}`;
  readonly worldLog = path.join(this.dir, 'world.log');
  private server?: ChildProcess;

  async start(): Promise<void> {
    mkdirSync(path.join(this.dir, 'home/.ssh'), { recursive: true });
    mkdirSync(path.join(this.dir, 'work'), { recursive: true });
    writeFileSync(path.join(this.dir, 'home/.ssh/id_test'), 'SECRET KEY\n');
    writeFileSync(
      path.join(this.dir, 'resolv.conf'),
      `nameserver ${HOSTS.dns}\n`,
    );
    writeFileSync(
      path.join(this.dir, 'hosts'),
      // runner-hosts.test: a hosts entry naming the runner itself (never opened).
      `127.0.0.1 localhost\n${HOSTS.docker} host.docker.internal\n198.18.0.2 runner-hosts.test\n`,
    );
    writeFileSync(this.worldLog, '');
    const [r, w] = [this.runner, this.world];
    const world4 = Object.values(HOSTS).filter((a) => !a.includes(':'));
    const world6 = Object.values(HOSTS).filter((a) => a.includes(':'));
    await sh(`
      ip netns add ${r}; ip netns add ${w}
      ip link add ${r}x netns ${r} type veth peer name ${w}x netns ${w}
      ip -n ${r} link set lo up; ip -n ${w} link set lo up
      ip -n ${r} addr add 198.18.0.2/24 dev ${r}x; ip -n ${r} addr add 2001:db8::2/64 dev ${r}x nodad
      ip -n ${w} addr add 198.18.0.1/24 dev ${w}x; ip -n ${w} addr add 2001:db8::1/64 dev ${w}x nodad
      ${world4.map((a) => `ip -n ${w} addr add ${a}/32 dev ${w}x`).join('\n')}
      ${world6.map((a) => `ip -n ${w} addr add ${a}/128 dev ${w}x nodad`).join('\n')}
      ip -n ${r} link set ${r}x up; ip -n ${w} link set ${w}x up
      ip -n ${r} route add default via 198.18.0.1; ip -n ${r} route add default via 2001:db8::1
    `);
    const config: WorldConfig = {
      dnsAddresses: [HOSTS.dns, HOSTS.dns6],
      zone: ZONE,
      httpAddresses: [
        ...world4.filter((a) => a !== HOSTS.dns),
        ...world6,
      ].flatMap((address) => [
        { address, port: 80 },
        { address, port: 443 },
      ]),
      tcpListeners: [{ address: HOSTS.dns, port: 853 }],
      udpListeners: [{ address: HOSTS.outside, port: 9999 }],
      log: this.worldLog,
    };
    this.server = spawn(
      'ip',
      [
        'netns',
        'exec',
        w,
        process.execPath,
        path.join(here, 'world.js'),
        JSON.stringify(config),
      ],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    await new Promise<void>((resolve, reject) => {
      this.server!.stdout!.once('data', () => resolve());
      this.server!.once('exit', (code) =>
        reject(new Error(`world exited with ${code}`)),
      );
    });
  }

  /** Everything the world saw, as parsed log lines. */
  events(): Array<Record<string, unknown>> {
    return readFileSync(this.worldLog, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  }

  /** A config for one engine run inside the runner namespace. */
  runConfig(
    overrides: Partial<EngineRunConfig> &
      Pick<EngineRunConfig, 'argv' | 'firewall'>,
  ): EngineRunConfig {
    const runId = randomBytes(4).toString('hex');
    return {
      runId,
      allow: ['gitlab.test', '*.gitlab.test'],
      deny: [],
      cwd: path.join(this.dir, 'work'),
      home: path.join(this.dir, 'home'),
      stateDir: path.join(this.dir, 'state', runId),
      resolvConf: path.join(this.dir, 'resolv.conf'),
      hostsFile: path.join(this.dir, 'hosts'),
      ttlFloorSec: 300,
      outcomeFile: path.join(this.dir, `outcome-${runId}.json`),
      ...overrides,
    };
  }

  /** Starts the engine in the runner namespace; the caller awaits or signals it. */
  launch(config: EngineRunConfig) {
    return execa(
      'ip',
      [
        'netns',
        'exec',
        this.runner,
        process.execPath,
        path.join(here, 'run-engine.js'),
        JSON.stringify(config),
      ],
      {
        reject: false,
        timeout: 60_000,
        stdin: 'ignore',
      },
    );
  }

  /** Runs a command in the runner namespace (to inspect what the engine left). */
  async inRunner(argv: string[]): Promise<string> {
    // System tools only: under npm, node_modules/.bin comes first on PATH.
    const result = await execa('ip', ['netns', 'exec', this.runner, ...argv], {
      reject: false,
      env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin' },
    });
    return `${result.stdout}${result.stderr}`;
  }

  /** Every trace of one run that should be gone after it: empty when clean. */
  async leftovers(config: EngineRunConfig): Promise<string[]> {
    const id = `fsbx${config.runId}`;
    const found: string[] = [];
    if (existsSync(`/run/netns/${id}`)) found.push(`netns ${id}`);
    const listing = await this.inRunner([
      'sh',
      '-c',
      'ip -br link; nft list tables; iptables-save; ip6tables-save; sysctl -n net.ipv4.ip_forward net.ipv6.conf.all.forwarding',
    ]);
    for (const line of listing.split('\n')) {
      if (line.includes(id)) found.push(line.trim());
    }
    const sysctls = listing.trim().split('\n').slice(-2);
    if (sysctls.some((v) => v.trim() !== '0'))
      found.push(`forwarding left on: ${sysctls.join(' ')}`);
    const poolDir = path.join(path.dirname(config.stateDir), 'kernel-pool');
    const leases = existsSync(poolDir)
      ? readdirSync(poolDir).filter((f) => f.endsWith('.lease'))
      : [];
    for (const lease of leases) {
      const text = readFileSync(path.join(poolDir, lease), 'utf8');
      if (text.includes(config.runId)) found.push(`lease ${lease}`);
    }
    if (existsSync(path.join(config.stateDir, 'kernel.json')))
      found.push('state record');
    return found;
  }

  async stop(): Promise<void> {
    this.server?.kill('SIGTERM');
    await execa('ip', ['netns', 'del', this.runner], { reject: false });
    await execa('ip', ['netns', 'del', this.world], { reject: false });
    rmSync(this.dir, { recursive: true, force: true });
  }
}
