import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { execa } from 'execa';

/**
 * A tiny private network for one test: a "runner" namespace where
 * flow-sandbox runs, joined by a veth pair to a "hosts" namespace where
 * one HTTP server answers on several 198.18.0.0/24 addresses. Names come
 * from /etc/netns/<runner>/hosts, which `ip netns exec` mounts over
 * /etc/hosts. Nothing routes anywhere else: a broken sandbox reaches a
 * test host or nothing.
 */
export interface HostNet {
  runnerNs: string;
  /** Argv prefix that runs a command in the runner namespace. */
  prefix: string[];
  port: number;
  /** Local addresses of requests the server saw, in order. */
  requests(): string[];
  cleanup(): Promise<void>;
}

export const HOSTS: Record<string, string> = {
  'allowed.test': '198.18.0.2',
  'outside.test': '198.18.0.3',
  'other.test': '198.18.0.4',
};

const SERVER = `
const http = require('node:http');
const server = http.createServer((req, res) => {
  const local = req.socket.localAddress.replace(/^::ffff:/, '');
  process.stdout.write('req ' + local + '\\n');
  res.end('hello from ' + local + '\\n');
});
server.listen(Number(process.argv[1]), '0.0.0.0', () => process.stdout.write('ready\\n'));
setTimeout(() => process.exit(0), 300000).unref();
`;

/** Why these tests cannot run here, or undefined when they can. */
export async function skipReason(): Promise<string | undefined> {
  if (process.getuid?.() !== 0) return 'needs root (network namespaces)';
  for (const tool of ['ip', 'bwrap', 'socat', 'curl', 'git']) {
    const r = await execa('sh', ['-c', `command -v ${tool}`], {
      reject: false,
    });
    if (r.exitCode !== 0) return `${tool} is not installed`;
  }
  return undefined;
}

const ip = (...args: string[]) => execa('ip', args);

function waitReady(child: ChildProcess, seen: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error('test server did not start')),
      10_000,
    );
    let buffer = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      buffer += chunk.toString();
      const lines = buffer.split('\n');
      buffer = lines.pop()!;
      for (const line of lines) {
        if (line === 'ready') {
          clearTimeout(timer);
          resolve();
        } else if (line.startsWith('req ')) seen.push(line.slice(4));
      }
    });
    child.on('exit', () => reject(new Error('test server exited')));
  });
}

/** Builds the network; everything it makes is named fsbxt-*-<random id>. */
export async function createHostNet(): Promise<HostNet> {
  const id = randomBytes(3).toString('hex');
  const runnerNs = `fsbxt-r-${id}`;
  const hostsNs = `fsbxt-h-${id}`;
  const etc = `/etc/netns/${runnerNs}`;
  const port = 8080;
  const seen: string[] = [];
  let server: ChildProcess | undefined;
  const cleanup = async () => {
    server?.kill('SIGKILL');
    await ip('netns', 'del', runnerNs).catch(() => undefined);
    await ip('netns', 'del', hostsNs).catch(() => undefined);
    await rm(etc, { recursive: true, force: true });
  };
  try {
    await ip('netns', 'add', runnerNs);
    await ip('netns', 'add', hostsNs);
    await ip(
      'link',
      'add',
      `fsbxt${id}a`,
      'type',
      'veth',
      'peer',
      'name',
      `fsbxt${id}b`,
    );
    await ip('link', 'set', `fsbxt${id}a`, 'netns', runnerNs);
    await ip('link', 'set', `fsbxt${id}b`, 'netns', hostsNs);
    await ip(
      '-n',
      runnerNs,
      'addr',
      'add',
      '198.18.0.1/24',
      'dev',
      `fsbxt${id}a`,
    );
    for (const address of Object.values(HOSTS)) {
      await ip(
        '-n',
        hostsNs,
        'addr',
        'add',
        `${address}/24`,
        'dev',
        `fsbxt${id}b`,
      );
    }
    for (const [ns, dev] of [
      [runnerNs, `fsbxt${id}a`],
      [hostsNs, `fsbxt${id}b`],
    ] as const) {
      await ip('-n', ns, 'link', 'set', 'lo', 'up');
      await ip('-n', ns, 'link', 'set', dev, 'up');
    }
    await mkdir(etc, { recursive: true });
    const names = Object.entries(HOSTS).map(([n, a]) => `${a} ${n}`);
    await writeFile(
      `${etc}/hosts`,
      ['127.0.0.1 localhost', ...names, ''].join('\n'),
    );
    server = spawn(
      'ip',
      ['netns', 'exec', hostsNs, process.execPath, '-e', SERVER, String(port)],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    await waitReady(server, seen);
  } catch (error) {
    await cleanup();
    throw error;
  }
  return {
    runnerNs,
    prefix: ['ip', 'netns', 'exec', runnerNs],
    port,
    requests: () => [...seen],
    cleanup,
  };
}
