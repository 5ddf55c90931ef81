import { spawn } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { NetNames } from './netns.js';
import type { NetPaths } from './files.js';
import type { ServerConfig } from './server.js';
import { ADDRESS_LABELS, HOSTS, OUTSIDE4, type HostSpec } from './topology.js';

const SERVER_JS = fileURLToPath(new URL('./server.js', import.meta.url));
const READY_TIMEOUT_MS = 15_000;
const STOP_GRACE_MS = 2_000;

/** A started host server: enough to stop it later, even from another process. */
export interface ServerHandle {
  key: string;
  pid: number;
  config: string;
}

/** What each host serves, beyond HTTP on port 80. */
function configFor(host: HostSpec, paths: NetPaths): ServerConfig {
  const base: ServerConfig = {
    host: host.key,
    addresses: [...host.ipv4, ...host.ipv6, ...(host.extra4 ?? [])],
    labels: { ...ADDRESS_LABELS },
    eventLog: path.join(paths.logs, `${host.key}.jsonl`),
  };
  switch (host.key) {
    case 'dns':
      return { ...base, zone: true };
    case 'gl':
      // A resolver on the instance's address: DNS tunnelled to an allowed
      // host must be refused all the same (escape suite).
      return {
        ...base,
        staticRoot: path.join(paths.www, 'gl'),
        rogueDns: OUTSIDE4,
        udpEcho: true,
      };
    case 'out':
      return {
        ...base,
        staticRoot: path.join(paths.www, 'out'),
        rogueDns: OUTSIDE4,
        dot: true,
        udpEcho: true,
      };
    default:
      return base;
  }
}

/** The event log a host's server appends to. */
export function eventLogOf(paths: NetPaths, key: string): string {
  return path.join(paths.logs, `${key}.jsonl`);
}

// Resolves on the child's "ready" line; rejects with its stderr otherwise.
function waitReady(child: ReturnType<typeof spawn>, key: string) {
  return new Promise<void>((resolve, reject) => {
    let out = '';
    let err = '';
    const timer = setTimeout(
      () =>
        reject(
          new Error(
            `server ${key}: not ready after ${READY_TIMEOUT_MS} ms: ${err}`,
          ),
        ),
      READY_TIMEOUT_MS,
    );
    child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('ready\n')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server ${key} exited with ${code}: ${err.trim()}`));
    });
  });
}

/**
 * Starts one host's server inside its namespace. With `keepAlive` false the
 * server exits when this process's pipe closes (a crashed test leaves no
 * server); `cli.js up` passes true so the network outlives the CLI.
 */
export async function startServer(options: {
  host: HostSpec;
  names: NetNames;
  paths: NetPaths;
  keepAlive: boolean;
}): Promise<ServerHandle> {
  const { host, names, paths } = options;
  const config = path.join(paths.run, `server-${host.key}.json`);
  await writeFile(config, JSON.stringify(configFor(host, paths), null, 2));
  await writeFile(eventLogOf(paths, host.key), '');

  const argv = [
    `--net=/run/netns/${names.ns(host.key)}`,
    '--',
    process.execPath,
    SERVER_JS,
    config,
  ];
  const child = spawn('nsenter', argv, {
    detached: true,
    stdio: [options.keepAlive ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    env: {
      PATH: process.env.PATH ?? '',
      KEEP_ALIVE: String(options.keepAlive),
    },
  });
  const handle = { key: host.key, pid: child.pid ?? -1, config };
  await waitReady(child, host.key);

  // The pipes must not keep the test process alive; stdin stays open on
  // purpose (its close is the server's signal to exit).
  child.stdout?.destroy();
  child.stderr?.destroy();
  child.unref();
  return handle;
}

/** Starts every test host's server. */
export async function startServers(options: {
  names: NetNames;
  paths: NetPaths;
  keepAlive: boolean;
  onStarted: (handle: ServerHandle) => void;
}): Promise<void> {
  for (const host of HOSTS) {
    const handle = await startServer({ ...options, host });
    options.onStarted(handle);
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// A pid is ours only while its command line still names our config file,
// so a recycled pid is never signalled.
async function isOurs(handle: ServerHandle): Promise<boolean> {
  const cmdline = await readFile(`/proc/${handle.pid}/cmdline`, 'utf8').catch(
    () => '',
  );
  return cmdline.split('\0').includes(handle.config);
}

/** Stops a server: SIGTERM, then SIGKILL after a grace period. */
export async function stopServer(handle: ServerHandle): Promise<void> {
  for (const signal of ['SIGTERM', 'SIGKILL'] as const) {
    if (!(await isOurs(handle))) return;
    process.kill(handle.pid, signal);
    for (let waited = 0; waited < STOP_GRACE_MS; waited += 50) {
      if (!(await isOurs(handle))) return;
      await sleep(50);
    }
  }
  throw new Error(`server ${handle.key} (pid ${handle.pid}) did not stop`);
}
