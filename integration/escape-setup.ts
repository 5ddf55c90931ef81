// What the runner around an escape run looks like: services on its
// loopback and Unix sockets, an ssh-agent holding a key, links it left in
// the work directory, another run's state. Everything is named after the
// test network and the suite's nonce, and removed by stop().
import { readlinkSync } from 'node:fs';
import { spawn, type ChildProcess } from 'node:child_process';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { link, mkdir, rm, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { SAFE_PATH } from '../scripts/testnet/files.js';
import type { Testnet } from '../scripts/testnet/testnet.js';
import {
  MARKERS,
  NONCE,
  PRE_LINKS,
  RUNNER_PORT,
} from './cases/escape-types.js';
import { REPO_ROOT } from './flow.js';
import { killMarked } from './escape-checks.js';
import { stateDirOf } from './sandbox-run.js';

const run = promisify(execFile);
const SERVICES = path.join(REPO_ROOT, 'scripts/flow/runner-services.py');
const READY_MS = 15_000;

/** The runner's side of an escape run, and how to take it down. */
export interface EscapeWorld {
  /** Environment for the flow (see ESCAPE_ENV_NAMES). */
  env: Record<string, string>;
  /** The policy file whose name marks the controller's argv. */
  configFile: string;
  /**
   * Links the outside file into the checkout again (a run gives the
   * checkout a copy of its own); returns the file outside.
   */
  relinkOutside(): Promise<string>;
  stop(): Promise<void>;
}

function waitForLine(child: ChildProcess, line: string, what: string) {
  return new Promise<void>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(
      () => reject(new Error(`${what}: not ready after ${READY_MS} ms`)),
      READY_MS,
    );
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes(`${line}\n`)) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${what} exited with ${code}`));
    });
  });
}

async function waitForFile(file: string, what: string): Promise<void> {
  for (let waited = 0; waited < READY_MS; waited += 100) {
    if (existsSync(file)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${what}: ${file} did not appear`);
}

/** Services in the runner's network namespace; they exit when stdin closes. */
async function startServices(net: Testnet, sockets: string[]) {
  const child = spawn(
    'nsenter',
    [
      `--net=/run/netns/${net.runnerNs}`,
      '--',
      'python3',
      SERVICES,
      String(RUNNER_PORT),
      sockets.join(','),
      `fsbxt-${NONCE}-abstract`,
      MARKERS.services,
    ],
    {
      stdio: ['pipe', 'pipe', 'inherit'],
      env: { PATH: SAFE_PATH, [MARKERS.canary]: '1' },
    },
  );
  await waitForLine(child, 'ready', 'runner services');
  return child;
}

/** An ssh-agent holding a throw-away key, as a runner with SSH_AUTH_SOCK has. */
async function startAgent(dir: string) {
  const key = path.join(dir, 'agent-key');
  const socket = path.join(dir, 'agent.sock');
  await run('ssh-keygen', [
    '-q',
    '-t',
    'ed25519',
    '-N',
    '',
    '-C',
    `fsbxt-agent-${NONCE}`,
    '-f',
    key,
  ]);
  // Bounded: a crashed test cannot leave it running for long.
  const child = spawn('timeout', ['900', 'ssh-agent', '-D', '-a', socket], {
    stdio: 'ignore',
    env: { PATH: SAFE_PATH },
  });
  await waitForFile(socket, 'ssh-agent');
  await run('ssh-add', ['-q', key], {
    env: { PATH: SAFE_PATH, SSH_AUTH_SOCK: socket },
  });
  return { child, socket };
}

/** Links and files the runner left behind, and another run's state. */
async function leaveTraces(net: Testnet, outsideFile: string) {
  const { work, home } = net.paths;
  const key = path.join(home, '.ssh', 'id_rsa');
  await run('git', ['init', '-q', work], {
    env: { PATH: SAFE_PATH, HOME: home },
  });
  // A checked-out submodule's git directory, as `git submodule update` leaves it.
  const sub = path.join(work, '.git', 'modules', 'fsbxt-sub');
  await run('git', ['init', '-q', '--bare', sub], {
    env: { PATH: SAFE_PATH, HOME: home },
  });
  await link(key, path.join(work, PRE_LINKS.sshHardlink));
  await symlink(key, path.join(work, PRE_LINKS.sshSymlink));
  await symlink(path.dirname(key), path.join(work, PRE_LINKS.sshDirLink));
  await symlink(home, path.join(work, PRE_LINKS.homeLink));
  await writeFile(outsideFile, 'fsbxt-outside-file\n');
  await link(outsideFile, path.join(work, PRE_LINKS.outsideHardlink));

  const decoy = path.join(stateDirOf(net), 'fsbxt-decoy-run');
  await mkdir(decoy, { recursive: true, mode: 0o700 });
  await writeFile(
    path.join(decoy, 'srt-settings.json'),
    JSON.stringify({ network: { allowedDomains: ['decoy.test'] } }),
    { mode: 0o600 },
  );
}

/** Builds the runner's side; on failure, removes what it made and throws. */
export async function setUpEscapeWorld(net: Testnet): Promise<EscapeWorld> {
  const dir = path.join(net.paths.base, 'escape');
  await mkdir(path.join(dir, 'docker'), { recursive: true });
  const sockets = [
    path.join(dir, 'service.sock'),
    path.join(dir, 'docker', 'docker.sock'),
  ];
  const outsideFile = path.join(dir, 'outside-file.txt');
  const configFile = path.join(dir, MARKERS.controller);
  const children: ChildProcess[] = [];
  let stopped = false;

  const stop = async () => {
    if (stopped) return;
    stopped = true;
    for (const child of children) {
      child.stdin?.end();
      child.kill('SIGTERM');
    }
    await killMarked(MARKERS.survivor);
    await killMarked(MARKERS.concurrent);
    await rm(`/dev/shm/fsbxt-${NONCE}-shm`, { force: true });
    const { work } = net.paths;
    for (const name of [...Object.values(PRE_LINKS), '.git']) {
      await rm(path.join(work, name), { recursive: true, force: true });
    }
    await rm(path.join(stateDirOf(net), 'fsbxt-decoy-run'), {
      recursive: true,
      force: true,
    });
    await rm(dir, { recursive: true, force: true });
  };

  try {
    await writeFile(configFile, 'version: 1\n');
    await leaveTraces(net, outsideFile);
    children.push(await startServices(net, sockets));
    const agent = await startAgent(dir);
    children.push(agent.child);
    const linked = path.join(net.paths.work, PRE_LINKS.outsideHardlink);
    return {
      configFile,
      stop,
      relinkOutside: async () => {
        await rm(linked, { force: true });
        await link(outsideFile, linked);
        return outsideFile;
      },
      env: {
        FSBXT_RUNNER_PORT: String(RUNNER_PORT),
        FSBXT_RUNNER_SOCKET: sockets[0]!,
        FSBXT_DOCKER_LIKE_SOCKET: sockets[1]!,
        FSBXT_RUNNER_ABSTRACT: `fsbxt-${NONCE}-abstract`,
        FSBXT_RUNNER_NETNS: `/run/netns/${net.runnerNs}`,
        FSBXT_STATE_ROOT: stateDirOf(net),
        FSBXT_OUTSIDE_FILE: outsideFile,
        FSBXT_WORK: net.paths.work,
        FSBXT_RUNNER_IPC: readlinkSync('/proc/self/ns/ipc'),
        SSH_AUTH_SOCK: agent.socket,
      },
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
