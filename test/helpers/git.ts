import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';

const GIT_ENV = {
  GIT_AUTHOR_NAME: 'test',
  GIT_AUTHOR_EMAIL: 'test@example.com',
  GIT_COMMITTER_NAME: 'test',
  GIT_COMMITTER_EMAIL: 'test@example.com',
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_CONFIG_GLOBAL: '/dev/null',
};

/** Runs git in a directory; returns trimmed stdout. */
export async function git(cwd: string, ...args: string[]): Promise<string> {
  const r = await execa('git', ['-c', 'init.defaultBranch=main', ...args], {
    cwd,
    env: GIT_ENV,
  });
  return r.stdout.trim();
}

export const CONFIG = '.gitlab/duo/agent-config.yml';

/** Writes the agent configuration in a checkout. */
export async function writeConfig(dir: string, text: string): Promise<void> {
  await mkdir(path.join(dir, '.gitlab/duo'), { recursive: true });
  await writeFile(path.join(dir, CONFIG), text);
}

/** A project with a default branch and a feature branch that edits the agent configuration. */
export interface TwoBranchRepo {
  root: string;
  /** A bare repository standing in for the GitLab project. */
  origin: string;
  /** Where a runner would have cloned it, on the feature branch. */
  checkout: string;
  mainCommit: string;
  featureCommit: string;
  cleanup(): Promise<void>;
}

/**
 * Builds origin (main: `mainConfig`, feature: `featureConfig`) and a full
 * clone checked out on `feature`, so `origin/main` exists.
 */
export async function twoBranchRepo(
  mainConfig: string | undefined,
  featureConfig: string,
  parent = os.tmpdir(),
): Promise<TwoBranchRepo> {
  const root = await mkdtemp(path.join(parent, 'fsbx-git-'));
  const work = path.join(root, 'work');
  const origin = path.join(root, 'origin.git');
  const checkout = path.join(root, 'checkout');
  await mkdir(work);
  await git(work, 'init', '-q');
  await writeFile(path.join(work, 'README'), 'project\n');
  if (mainConfig !== undefined) await writeConfig(work, mainConfig);
  await git(work, 'add', '-A');
  await git(work, 'commit', '-qm', 'main');
  const mainCommit = await git(work, 'rev-parse', 'HEAD');
  await git(work, 'checkout', '-qb', 'feature');
  await writeConfig(work, featureConfig);
  await git(work, 'add', '-A');
  await git(work, 'commit', '-qm', 'feature widens the policy');
  const featureCommit = await git(work, 'rev-parse', 'HEAD');
  await git(root, 'clone', '-q', '--bare', work, origin);
  await git(root, 'clone', '-q', '--branch', 'feature', origin, checkout);
  return {
    root,
    origin,
    checkout,
    mainCommit,
    featureCommit,
    cleanup: () => rm(root, { recursive: true, force: true }),
  };
}
