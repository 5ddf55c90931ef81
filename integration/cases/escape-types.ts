// The shape of an escape case (see ./escape.ts): a verdict case that may
// also be judged on the host after the run, or need a terminal.
import { randomBytes } from 'node:crypto';
import type { VerdictCase } from './types.js';

/**
 * What the host shows after the run; "allowed" when it shows the attempt
 * worked. A file or process check replaces what the case printed (inside,
 * a private tmpfs write or a process that dies with the sandbox looks like
 * success); a DNS check adds to it (an answer inside counts too).
 */
export type HostCheck =
  /** A file exists on the host (a write that outlived the sandbox). */
  | { kind: 'file'; path: string }
  /** A process whose argv contains `marker` is still alive. */
  | { kind: 'process'; marker: string }
  /** A test DNS server (zone, rogue or instance resolver) logged `needle`. */
  | { kind: 'dns'; needle: string };

export interface EscapeCase extends VerdictCase {
  /** Why the expected verdict is what the policy says (for the report). */
  why: string;
  /** Runs in its own sandbox under a pseudo-terminal (`script`). */
  tty?: boolean;
  /** Judged on the host after the run too: either way through counts. */
  after?: HostCheck;
}

/** Per test process: names, markers and files no other run can share. */
export const NONCE = randomBytes(4).toString('hex');

/** Port of the runner's own services (scripts/flow/runner-services.py). */
export const RUNNER_PORT = 18080;

/** Argv markers, so probes and checks find exactly our processes. */
export const MARKERS = {
  services: `fsbxt-runner-services-${NONCE}`,
  survivor: `fsbxt-survivor-${NONCE}`,
  concurrent: `fsbxt-concurrent-${NONCE}`,
  canary: `FSBXT_CANARY_${NONCE}`,
  /** Part of the controller's argv (its --config file), and of no other process's. */
  controller: `escape-${NONCE}.yml`,
};

/** Links the runner left in the work directory before the job started. */
export const PRE_LINKS = {
  sshHardlink: 'fsbxt-pre-ssh-hardlink',
  sshSymlink: 'fsbxt-pre-ssh-symlink',
  sshDirLink: 'fsbxt-pre-ssh-dir',
  homeLink: 'fsbxt-pre-home-link',
  outsideHardlink: 'fsbxt-pre-outside-hardlink',
};

/**
 * Environment the escape flow gets (set by ../escape-setup.ts): where the
 * runner's services and files are. None of it widens the sandbox; it only
 * saves the cases from searching.
 */
export const ESCAPE_ENV_NAMES = [
  'FSBXT_RUNNER_PORT',
  'FSBXT_RUNNER_SOCKET',
  'FSBXT_DOCKER_LIKE_SOCKET',
  'FSBXT_RUNNER_ABSTRACT',
  'FSBXT_RUNNER_NETNS',
  'FSBXT_STATE_ROOT',
  'FSBXT_OUTSIDE_FILE',
  'FSBXT_WORK',
  'FSBXT_RUNNER_IPC',
  'SSH_AUTH_SOCK',
] as const;
