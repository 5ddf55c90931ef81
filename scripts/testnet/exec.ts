import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import type { NetPaths } from './files.js';
import { SAFE_PATH } from './files.js';

/** Options for one command in the runner namespace. */
export interface NetExecOptions {
  /** Added to (and overriding) the base environment. */
  env?: Record<string, string>;
  /** Working directory; the network's work dir by default. */
  cwd?: string;
  input?: string;
  timeoutMs?: number;
}

/** What a command in the runner namespace did. */
export interface NetExecResult {
  exitCode: number;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

// Runs as `sh -c SCRIPT fsbxt-exec RESOLV HOSTS TMP CWD KEEP ARGV...` inside
// a new mount namespace: the binds are private to it, so the host's /etc
// and /tmp are never changed, and they vanish with the command. KEEP is the
// checkout when it lies under /tmp (a CI clone may): it is bound into the
// private /tmp at the same path, or the CLI under test would vanish.
const MOUNT_SCRIPT = [
  'set -e',
  'mount --bind "$1" /etc/resolv.conf',
  'mount --bind "$2" /etc/hosts',
  'if [ -n "$5" ]; then mkdir -p "$3${5#/tmp}"; mount --bind "$5" "$3${5#/tmp}"; fi',
  'mount --rbind "$3" /tmp',
  'cd "$4"',
  'shift 5',
  'exec "$@"',
].join('\n');

/** The checkout this code runs from, when it lies under /tmp. */
const CHECKOUT = fileURLToPath(new URL('../../../', import.meta.url)).replace(
  /\/$/,
  '',
);
const KEEP = CHECKOUT.startsWith('/tmp/') ? CHECKOUT : '';

/**
 * Entries the harness itself puts in a network's private /tmp (the mount
 * point of a checkout under /tmp); leftover checks ignore them.
 */
export const HARNESS_TMP_ENTRIES: readonly string[] = KEEP
  ? [KEEP.split('/')[2]!]
  : [];

/** The base environment: fake HOME, system PATH, nothing from the caller. */
export function baseEnv(paths: NetPaths): Record<string, string> {
  return {
    PATH: SAFE_PATH,
    HOME: paths.home,
    USER: 'root',
    LOGNAME: 'root',
    LANG: 'C.UTF-8',
    TMPDIR: '/tmp',
  };
}

/** The full argv that runs `argv` in the runner namespace's private view. */
export function execArgv(
  runnerNs: string,
  paths: NetPaths,
  cwd: string,
  argv: readonly string[],
): string[] {
  return [
    'nsenter',
    `--net=/run/netns/${runnerNs}`,
    '--',
    'unshare',
    '--mount',
    '--propagation',
    'slave',
    '--',
    'sh',
    '-c',
    MOUNT_SCRIPT,
    'fsbxt-exec',
    paths.resolvConf,
    paths.hosts,
    paths.tmp,
    cwd,
    KEEP,
    ...argv,
  ];
}

/** Runs a command in the runner namespace; never throws for its exit status. */
export async function netExec(
  runnerNs: string,
  paths: NetPaths,
  argv: readonly string[],
  options: NetExecOptions = {},
): Promise<NetExecResult> {
  const [file, ...args] = execArgv(
    runnerNs,
    paths,
    options.cwd ?? paths.work,
    argv,
  );
  const result = await execa(file!, args, {
    env: { ...baseEnv(paths), ...options.env },
    extendEnv: false,
    input: options.input ?? '',
    reject: false,
    timeout: options.timeoutMs ?? 120_000,
    killSignal: 'SIGKILL',
    stripFinalNewline: false,
    maxBuffer: 64 * 1024 * 1024,
  });
  return {
    exitCode: result.exitCode ?? 128 + 9,
    stdout: String(result.stdout ?? ''),
    stderr: String(result.stderr ?? ''),
    timedOut: result.timedOut === true,
  };
}
