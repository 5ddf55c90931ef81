import { chmod, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { CommandRunner } from '../../src/exec/runner.js';
import { DNS_SERVER4, DNS_SERVER6, RUNNER_HOSTS_FILE } from './topology.js';

/** Where a test network keeps its files: outside /tmp, never the real HOME. */
export function baseDir(id: string): string {
  return `/var/tmp/fsbxt${id}`;
}

/** The directories and files of one test network. */
export interface NetPaths {
  base: string;
  /** The fake HOME: .ssh/id_rsa with a known secret, and a .gitconfig. */
  home: string;
  /** The job's working directory (the checkout). */
  work: string;
  /** Mounted over /tmp inside exec(), so leftovers are this network's own. */
  tmp: string;
  resolvConf: string;
  hosts: string;
  logs: string;
  www: string;
  /** Server configs and the state file used by `cli.js down ID`. */
  run: string;
  state: string;
}

export function netPaths(id: string): NetPaths {
  const base = baseDir(id);
  return {
    base,
    home: path.join(base, 'home'),
    work: path.join(base, 'work'),
    tmp: path.join(base, 'tmp'),
    resolvConf: path.join(base, 'etc', 'resolv.conf'),
    hosts: path.join(base, 'etc', 'hosts'),
    logs: path.join(base, 'logs'),
    www: path.join(base, 'www'),
    run: path.join(base, 'run'),
    state: path.join(base, 'state.json'),
  };
}

/** The text of the fake private key; tests look for it in sandbox output. */
export function secretFor(id: string): string {
  return `FSBXT-SECRET-${id}-do-not-leak`;
}

/** Marker a `git config --list` inside the sandbox must show. */
export const GITCONFIG_MARKER = 'fsbxt.marker=gitconfig-readable';

const GITCONFIG = `[user]
\tname = Fsbxt Tester
\temail = tester@gitlab.test
[fsbxt]
\tmarker = gitconfig-readable
[init]
\tdefaultBranch = main
`;

/** Creates the fake HOME, work dir, private /tmp and the runner's etc files. */
export async function writeNetFiles(id: string): Promise<NetPaths> {
  const p = netPaths(id);
  for (const dir of [p.home, p.work, p.logs, p.www, p.run]) {
    await mkdir(dir, { recursive: true });
  }
  await mkdir(path.dirname(p.hosts), { recursive: true });
  await mkdir(p.tmp, { recursive: true });
  await chmod(p.tmp, 0o1777);

  const ssh = path.join(p.home, '.ssh');
  await mkdir(ssh, { recursive: true, mode: 0o700 });
  const key = `-----BEGIN OPENSSH PRIVATE KEY-----\n${secretFor(id)}\n-----END OPENSSH PRIVATE KEY-----\n`;
  await writeFile(path.join(ssh, 'id_rsa'), key, { mode: 0o600 });
  await writeFile(path.join(p.home, '.gitconfig'), GITCONFIG);

  await writeFile(
    p.resolvConf,
    `nameserver ${DNS_SERVER4}\nnameserver ${DNS_SERVER6}\noptions timeout:2 attempts:1\n`,
  );
  await writeFile(p.hosts, RUNNER_HOSTS_FILE);
  return p;
}

/**
 * A bare repository served over dumb HTTP: `git update-server-info` writes
 * the info/refs file a static server needs. Its README names the host, so
 * a clone shows which host it came from.
 */
export async function makeRepo(
  exec: CommandRunner,
  options: { dir: string; label: string },
): Promise<string> {
  const bare = path.join(options.dir, 'project.git');
  const seed = path.join(options.dir, 'seed');
  await mkdir(seed, { recursive: true });
  await writeFile(path.join(seed, 'README'), `fsbxt-repo=${options.label}\n`);

  const env = { GIT_CONFIG_NOSYSTEM: '1', HOME: options.dir, PATH: SAFE_PATH };
  const git = (...args: string[]) =>
    exec.run(['git', `--git-dir=${bare}`, `--work-tree=${seed}`, ...args], {
      env,
    });
  await exec.run(['git', 'init', '-q', '--bare', '-b', 'main', bare], { env });
  await git('add', 'README');
  await git(
    '-c',
    'user.name=fsbxt',
    '-c',
    'user.email=fsbxt@gitlab.test',
    'commit',
    '-q',
    '-m',
    `repository on ${options.label}`,
  );
  await exec.run(['git', `--git-dir=${bare}`, 'update-server-info'], { env });
  return bare;
}

/** PATH for everything run in the test network: system dirs only. */
export const SAFE_PATH =
  '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
