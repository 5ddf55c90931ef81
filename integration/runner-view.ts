// A runner host for tests that kill controllers or run many at once: one
// mount namespace inside the test network's runner namespace, shared by
// every flow-sandbox process the test starts in it, as the host's is on a
// real runner. A killed controller's namespace handles stay mounted here,
// as they would on the runner, instead of vanishing with a private mount
// namespace of its own. /run/netns is a tmpfs of the view's own, so `ip
// netns` lists this view's namespaces and nobody else's, and the view is
// private: nothing mounted on the host shows up in its mount table.
import { spawn, type ChildProcess } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { execa } from 'execa';
import { baseEnv, execArgv } from '../scripts/testnet/exec.js';
import { processesInNetns, stable } from '../scripts/testnet/snapshot.js';
import type { Testnet } from '../scripts/testnet/testnet.js';

const READY_MS = 15_000;

// Runs after the test network's own binds (resolv.conf, hosts, /tmp).
// The host's namespace handles are detached first: copies of them would
// vanish from the view whenever their owners delete them on the host.
const VIEW_SCRIPT = [
  'set -e',
  'mount --make-rprivate /',
  'awk \'$5 ~ "^/run/netns(/|$)" { print $5 }\' /proc/self/mountinfo |',
  '  sort -r | xargs -r -n 1 umount -l',
  'mkdir -p /run/netns',
  'mount -t tmpfs -o mode=0755,size=1m fsbxt-netns /run/netns',
  // As `ip netns add` would make it; done here so no run changes it.
  'mount --make-shared /run/netns',
  'echo ready',
  // Held until the test closes stdin (or dies).
  'exec cat >/dev/null',
].join('\n');

/** What one command in the view did; `signal` is set when it was killed. */
export interface ViewResult {
  exitCode?: number;
  signal?: string;
  stdout: string;
  stderr: string;
}

/** Host state, one normalised text per kind of object. */
export type HostState = Record<string, string>;

// One process prints everything: a snapshot costs one command, not ten.
// $@ is the list of directories whose trees are part of the state.
const SNAPSHOT_SCRIPT = `
s() { printf '\\n@@%s\\n' "$1"; }
s netns; ip netns list
s links; ip -d -o link show
s addresses; ip -o addr show
s routes; ip route show table all; ip -6 route show table all
s nft; nft list ruleset
s iptables; iptables-save
s ip6tables; ip6tables-save
s sysctl; cd /proc/sys/net
grep -H . ipv4/ip_forward ipv6/conf/*/forwarding ipv6/conf/*/accept_ra
s mounts; cat /proc/self/mountinfo
s tmp; find /tmp -mindepth 1 | sort
s files; for d in "$@"; do [ ! -e "$d" ] || find "$d" | sort; done
`;

/** A shared mount namespace in a test network's runner; see the file comment. */
export class RunnerView {
  private constructor(
    readonly net: Testnet,
    private readonly holder: ChildProcess,
    readonly pid: number,
    private readonly hostMounts: ReadonlySet<string>,
  ) {}

  static async start(net: Testnet): Promise<RunnerView> {
    const [file, ...args] = execArgv(net.runnerNs, net.paths, '/', [
      'sh',
      '-c',
      VIEW_SCRIPT,
    ]);
    const holder = spawn(file!, args, {
      env: baseEnv(net.paths),
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(new Error(`the runner view was not ready in ${READY_MS} ms`)),
        READY_MS,
      );
      holder.stdout!.once('data', () => {
        clearTimeout(timer);
        resolve();
      });
      holder.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`the runner view exited with ${code}`));
      });
    });
    const mounts = await readFile(`/proc/${holder.pid!}/mountinfo`, 'utf8');
    return new RunnerView(
      net,
      holder,
      holder.pid!,
      new Set(mountLines(mounts)),
    );
  }

  /**
   * The view's mounts that runs can be blamed for: all under the paths the
   * runs use, and any other that was not there when the view started. The
   * rest are copies of the host's, which vanish when the host removes
   * their mount points (a Docker container stopping), whatever runs do.
   */
  private ownMounts(mountinfo: string): string {
    const watched = ['/run/netns', '/tmp', this.net.paths.base];
    const under = (point: string) =>
      watched.some((w) => point === w || point.startsWith(`${w}/`));
    return mountLines(mountinfo)
      .filter(
        (line) => under(line.split(' ')[2]!) || !this.hostMounts.has(line),
      )
      .join('\n');
  }

  /** Runs argv in the view (runner network, the view's mounts), base environment plus `env`. */
  async exec(
    argv: readonly string[],
    options: {
      env?: Record<string, string>;
      /** The network's work directory by default. */
      cwd?: string;
      timeoutMs?: number;
    } = {},
  ): Promise<ViewResult> {
    const result = await execa(
      'nsenter',
      [
        `--target=${this.pid}`,
        '--mount',
        '--net',
        '--',
        'sh',
        '-c',
        'cd "$1" && shift && exec "$@"',
        'fsbxt-view',
        options.cwd ?? this.net.paths.work,
        ...argv,
      ],
      {
        env: { ...baseEnv(this.net.paths), ...options.env },
        extendEnv: false,
        reject: false,
        stdin: 'ignore',
        timeout: options.timeoutMs ?? 60_000,
        killSignal: 'SIGKILL',
      },
    );
    return {
      exitCode: result.exitCode,
      signal: result.signal,
      stdout: String(result.stdout ?? ''),
      stderr: String(result.stderr ?? ''),
    };
  }

  /**
   * Everything a run could leave: namespaces, links, addresses, routes,
   * rulesets, forwarding settings, mounts, /tmp, the trees of `dirs`, the
   * processes in the runner's network, and any whose command line holds
   * `marker`.
   */
  async snapshot(dirs: string[], marker: string): Promise<HostState> {
    const result = await this.exec([
      'sh',
      '-c',
      SNAPSHOT_SCRIPT,
      'fsbxt-snap',
      ...dirs,
    ]);
    const state: HostState = {};
    for (const part of result.stdout.split('\n@@').slice(1)) {
      const newline = part.indexOf('\n');
      state[part.slice(0, newline)] = stable(part.slice(newline + 1));
    }
    state.mounts = this.ownMounts(state.mounts ?? '');
    const own = await processesInNetns(this.net.runnerNs);
    state.processes = own
      .filter((p) => p.split(' ')[0] !== String(this.pid))
      .join('\n');
    state.marked = (await markedProcesses(marker)).join('\n');
    return state;
  }

  /** Ends the view; namespaces still mounted in it go with it. */
  async stop(): Promise<void> {
    if (this.holder.exitCode !== null) return;
    const exited = new Promise((resolve) => this.holder.once('exit', resolve));
    this.holder.stdin!.end();
    await exited;
  }
}

// Mount table lines without the mount and parent ids, which the kernel
// hands out again as mounts come and go.
function mountLines(mountinfo: string): string[] {
  return mountinfo
    .split('\n')
    .filter(Boolean)
    .map((line) => line.split(' ').slice(2).join(' '));
}

/** Processes whose command line holds `marker`, as "pid argv". */
export async function markedProcesses(marker: string): Promise<string[]> {
  const found: string[] = [];
  for (const pid of await readdir('/proc')) {
    if (!/^\d+$/.test(pid) || Number(pid) === process.pid) continue;
    const argv = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    if (argv.includes(marker))
      found.push(`${pid} ${argv.split('\0').join(' ').trim()}`);
  }
  return found;
}

/** What differs between two host states, line by line: empty when equal. */
export function stateDifferences(
  before: HostState,
  after: HostState,
): string[] {
  const diffs: string[] = [];
  for (const key of new Set([...Object.keys(before), ...Object.keys(after)])) {
    const was = (before[key] ?? '').split('\n').filter(Boolean);
    const now = (after[key] ?? '').split('\n').filter(Boolean);
    for (const line of was.filter((l) => !now.includes(l)))
      diffs.push(`${key} - ${line}`);
    for (const line of now.filter((l) => !was.includes(l)))
      diffs.push(`${key} + ${line}`);
  }
  return diffs;
}
