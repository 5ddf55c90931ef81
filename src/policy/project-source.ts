import { createHash } from 'node:crypto';
import path from 'node:path';
import { SandboxError } from '../errors.js';
import type { Context } from '../context.js';
import {
  AGENT_CONFIG_PATH,
  parseAgentConfig,
  readAgentConfigText,
  type AgentConfig,
} from './agent-config.js';

/** Which version of the project's agent configuration a run uses, and why. */
export interface ProjectConfigVersion {
  /**
   * `working-tree`: not in CI, the file as checked out; `commit`: a
   * reviewed commit read through git; `ignored`: no trusted version could
   * be found, so the project's network_policy and image are not used.
   */
  kind: 'working-tree' | 'commit' | 'ignored';
  /** The ref that was read, e.g. `refs/remotes/origin/main` or `HEAD`. */
  ref?: string;
  commit?: string;
  /** Whether the file exists in that version. */
  present: boolean;
  reason: string;
  /** Prefix for rule origins, e.g. `.gitlab/duo/agent-config.yml@1a2b3c4d (origin/main)`. */
  label: string;
}

/** The project's configuration as far as this run trusts it. */
export interface ProjectConfig {
  config: AgentConfig | undefined;
  version: ProjectConfigVersion;
  /** Set when the working tree's file differs from the version used. */
  workingTreeDiffers?: boolean;
}

const isTrue = (v: string | undefined) =>
  v !== undefined && /^(1|true|yes)$/i.test(v.trim());

/**
 * Whether a branch name is plain enough to put inside a git revision: a
 * subset of git's ref-name rules, so that `main..x`, `x:path` or
 * `x^{tree}` cannot change what is read.
 */
export function isPlainBranchName(name: string): boolean {
  return (
    /^[^\s\x00-\x1f\x7f~^:?*[\\]+$/.test(name) &&
    !name.includes('..') &&
    !name.includes('@{') &&
    !name.startsWith('-') &&
    !name.startsWith('/') &&
    !name.endsWith('/') &&
    !name.endsWith('.lock') &&
    !name.split('/').some((part) => part.startsWith('.'))
  );
}

/** Why this job is not a default-branch job, or undefined if it is one. */
export function untrustedRefReason(
  env: Record<string, string | undefined>,
): string | undefined {
  const branch = env.CI_COMMIT_REF_NAME;
  const main = env.CI_DEFAULT_BRANCH;
  if (!main) return 'CI_DEFAULT_BRANCH is not set';
  if (!isPlainBranchName(main))
    return `CI_DEFAULT_BRANCH ${JSON.stringify(main)} is not a valid branch name`;
  if (!branch) return 'CI_COMMIT_REF_NAME is not set';
  // A merge request pipeline runs the unmerged source, and a fork's source
  // branch may well be called `main`: never trust it by its name.
  if (
    env.CI_MERGE_REQUEST_IID ||
    env.CI_PIPELINE_SOURCE === 'merge_request_event'
  )
    return `this is a merge request pipeline (source branch ${branch})`;
  if (env.CI_COMMIT_TAG) return `this is a tag pipeline (${env.CI_COMMIT_TAG})`;
  if (branch !== main)
    return `the job's branch ${branch} is not the default branch ${main}`;
  return undefined;
}

/** Git reading only committed objects; no pager, no fsmonitor hook from the checkout's config. */
function git(ctx: Context, cwd: string, args: string[]) {
  return ctx.exec.run(
    [
      'git',
      '-C',
      cwd,
      '-c',
      `safe.directory=${cwd}`,
      '-c',
      'core.fsmonitor=false',
      '--no-pager',
      // A job may have added refs/replace/ entries in a reused checkout:
      // the trusted version is the object itself, never a replacement.
      '--no-replace-objects',
      ...args,
    ],
    { allowFailure: true, timeoutMs: 15_000, env: gitEnv(ctx.env) },
  );
}

function gitEnv(env: Record<string, string | undefined>) {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) {
    if (v !== undefined && !k.startsWith('GIT_')) out[k] = v;
  }
  return {
    ...out,
    GIT_TERMINAL_PROMPT: '0',
    GIT_OPTIONAL_LOCKS: '0',
    GIT_NO_REPLACE_OBJECTS: '1',
    GIT_NO_LAZY_FETCH: '1',
  };
}

async function resolveCommit(ctx: Context, cwd: string, ref: string) {
  const r = await git(ctx, cwd, [
    'rev-parse',
    '--verify',
    '--quiet',
    `${ref}^{commit}`,
  ]);
  const sha = r.stdout.trim();
  return r.exitCode === 0 && /^[0-9a-f]{40,64}$/.test(sha) ? sha : undefined;
}

/** The file's text at a commit, undefined if the commit has no such file. */
async function showAt(ctx: Context, cwd: string, commit: string) {
  const blob = await git(ctx, cwd, [
    'rev-parse',
    '--verify',
    '--quiet',
    `${commit}:${AGENT_CONFIG_PATH}`,
  ]);
  if (blob.exitCode !== 0) return undefined;
  const id = blob.stdout.trim();
  const text = await git(ctx, cwd, ['cat-file', 'blob', id]);
  if (text.exitCode !== 0)
    throw new Error(`git cat-file failed: ${text.stderr.trim()}`);
  // A reused checkout's object store was writable to earlier jobs: the
  // file must hash to the id its commit names (a rewritten loose object
  // would not).
  if (blobId(text.stdout, id.length) !== id)
    throw new SandboxError(
      'POLICY_INVALID',
      `the trusted version of ${AGENT_CONFIG_PATH} cannot be read: at ${commit} it is object ${id}, but the stored content hashes otherwise (an object rewritten in place in this checkout?); fetch a clean checkout`,
    );
  return text.stdout;
}

/** Git's id of a blob with this (UTF-8) text: SHA-1, or SHA-256 for 64-digit ids. */
export function blobId(text: string, idLength: number): string {
  const body = Buffer.from(text, 'utf8');
  return createHash(idLength === 64 ? 'sha256' : 'sha1')
    .update(`blob ${body.length}\0`)
    .update(body)
    .digest('hex');
}

/** The refs that may hold the default branch, most authoritative first. */
export function defaultBranchRefs(main: string): string[] {
  return [`refs/remotes/origin/${main}`, `refs/heads/${main}`];
}

const short = (ref: string) => ref.replace(/^refs\/(remotes\/|heads\/)/, '');

/**
 * Finds the version of `.gitlab/duo/agent-config.yml` this run may trust.
 * In CI, only a committed version on the default branch counts: a branch
 * must not widen its own sandbox (or switch it off with `image`). When
 * that version is not in the checkout, the project's settings are ignored
 * (fail closed), never taken from the working tree.
 */
export async function loadProjectConfig(ctx: Context): Promise<ProjectConfig> {
  const cwd = path.resolve(ctx.cwd);
  const inCi = isTrue(ctx.env.GITLAB_CI) || isTrue(ctx.env.CI);
  const workingText = await readAgentConfigText(cwd);
  if (!inCi) {
    return {
      config:
        workingText === undefined
          ? undefined
          : await parseAgentConfig(workingText, AGENT_CONFIG_PATH),
      version: {
        kind: 'working-tree',
        present: workingText !== undefined,
        reason:
          'not on a CI runner: the working tree is used, its owner runs flow-sandbox',
        label: `${AGENT_CONFIG_PATH} (working tree)`,
      },
    };
  }
  const untrusted = untrustedRefReason(ctx.env);
  const main = ctx.env.CI_DEFAULT_BRANCH;
  const usable = main !== undefined && isPlainBranchName(main);
  const refs = untrusted ? (usable ? defaultBranchRefs(main) : []) : ['HEAD'];
  const why = untrusted
    ? `${untrusted}: the default branch's version is used`
    : 'the job runs on the default branch: its committed version is used';
  for (const ref of refs) {
    const commit = await resolveCommit(ctx, cwd, ref);
    if (!commit) continue;
    const label = `${AGENT_CONFIG_PATH}@${commit.slice(0, 12)} (${short(ref)})`;
    const text = await showAt(ctx, cwd, commit);
    return {
      config:
        text === undefined ? undefined : await parseAgentConfig(text, label),
      version: {
        kind: 'commit',
        ref,
        commit,
        present: text !== undefined,
        reason: why,
        label,
      },
      workingTreeDiffers: text !== workingText,
    };
  }
  const tried = refs.length
    ? refs.join(', ')
    : 'no ref (the default branch is unknown)';
  return {
    config: undefined,
    version: {
      kind: 'ignored',
      present: false,
      reason: `${untrusted ?? 'the job runs on the default branch'}, but no trusted version can be read (tried ${tried}): the project's network_policy and image are IGNORED, not taken from the working tree. Fetch the default branch into the checkout (e.g. git fetch --depth=1 origin "+refs/heads/$CI_DEFAULT_BRANCH:refs/remotes/origin/$CI_DEFAULT_BRANCH") to use it`,
      label: `${AGENT_CONFIG_PATH} (ignored)`,
    },
    workingTreeDiffers: workingText !== undefined,
  };
}
