import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import test from 'ava';
import type { Context } from '../../src/context.js';
import { createCommandRunner } from '../../src/exec/runner.js';
import { memoryLogger } from '../../src/log/logger.js';
import {
  isPlainBranchName,
  loadProjectConfig,
  untrustedRefReason,
} from '../../src/policy/project-source.js';
import { CONFIG, git, twoBranchRepo, writeConfig } from '../helpers/git.js';

const MAIN = 'network_policy:\n  allowed_domains: [allowed.test]\n';
const FEATURE =
  'image: custom/image:1\nnetwork_policy:\n  allowed_domains: [allowed.test, outside.test]\n';

const CI = { GITLAB_CI: 'true', CI_DEFAULT_BRANCH: 'main' };

function ctx(cwd: string, env: Record<string, string>): Context {
  return {
    exec: createCommandRunner(),
    log: memoryLogger(),
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
    cwd,
  };
}

const allowedOf = (c: { config?: { network_policy?: unknown } }) =>
  (c.config?.network_policy as { allowed_domains?: string[] } | undefined)
    ?.allowed_domains;

test('feature branch in CI: the default branch version from origin is used', async (t) => {
  const repo = await twoBranchRepo(MAIN, FEATURE);
  t.teardown(repo.cleanup);
  const p = await loadProjectConfig(
    ctx(repo.checkout, { ...CI, CI_COMMIT_REF_NAME: 'feature' }),
  );
  t.is(p.version.kind, 'commit');
  t.is(p.version.ref, 'refs/remotes/origin/main');
  t.is(p.version.commit, repo.mainCommit);
  t.deepEqual(allowedOf(p), ['allowed.test']);
  t.is(
    p.config?.image,
    undefined,
    'the branch cannot switch the sandbox off with image',
  );
  t.true(p.workingTreeDiffers);
  t.regex(p.version.reason, /feature is not the default branch main/);
  t.is(
    p.version.label,
    `${CONFIG}@${repo.mainCommit.slice(0, 12)} (origin/main)`,
  );
});

test('not in CI: the working tree is used', async (t) => {
  const repo = await twoBranchRepo(MAIN, FEATURE);
  t.teardown(repo.cleanup);
  const p = await loadProjectConfig(ctx(repo.checkout, {}));
  t.is(p.version.kind, 'working-tree');
  t.deepEqual(allowedOf(p), ['allowed.test', 'outside.test']);
});

test('default branch in CI: the committed version, not uncommitted edits', async (t) => {
  const repo = await twoBranchRepo(MAIN, FEATURE);
  t.teardown(repo.cleanup);
  await git(repo.checkout, 'checkout', '-q', 'main');
  await writeConfig(repo.checkout, FEATURE);
  const p = await loadProjectConfig(
    ctx(repo.checkout, { ...CI, CI_COMMIT_REF_NAME: 'main' }),
  );
  t.is(p.version.ref, 'HEAD');
  t.is(p.version.commit, repo.mainCommit);
  t.deepEqual(allowedOf(p), ['allowed.test']);
  t.true(p.workingTreeDiffers);
});

test('a merge request from a branch called main is not trusted by its name', async (t) => {
  const repo = await twoBranchRepo(MAIN, FEATURE);
  t.teardown(repo.cleanup);
  const p = await loadProjectConfig(
    ctx(repo.checkout, {
      ...CI,
      CI_COMMIT_REF_NAME: 'main',
      CI_MERGE_REQUEST_IID: '7',
    }),
  );
  t.is(p.version.ref, 'refs/remotes/origin/main');
  t.regex(p.version.reason, /merge request pipeline/);
});

test('shallow single-branch clone: fail closed, the working tree is ignored', async (t) => {
  const repo = await twoBranchRepo(MAIN, FEATURE);
  t.teardown(repo.cleanup);
  const shallow = path.join(repo.root, 'shallow');
  await git(
    repo.root,
    'clone',
    '-q',
    '--depth',
    '1',
    '--single-branch',
    '--branch',
    'feature',
    `file://${repo.origin}`,
    shallow,
  );
  const p = await loadProjectConfig(
    ctx(shallow, { ...CI, CI_COMMIT_REF_NAME: 'feature' }),
  );
  t.is(p.version.kind, 'ignored');
  t.is(p.config, undefined);
  t.regex(p.version.reason, /IGNORED, not taken from the working tree/);
  t.regex(p.version.reason, /refs\/remotes\/origin\/main, refs\/heads\/main/);
  t.regex(p.version.reason, /git fetch --depth=1 origin/);
});

test('a local default branch is used when there is no origin', async (t) => {
  const repo = await twoBranchRepo(MAIN, FEATURE);
  t.teardown(repo.cleanup);
  const work = path.join(repo.root, 'work');
  const p = await loadProjectConfig(
    ctx(work, { ...CI, CI_COMMIT_REF_NAME: 'feature' }),
  );
  t.is(p.version.ref, 'refs/heads/main');
  t.deepEqual(allowedOf(p), ['allowed.test']);
});

test('no file on the default branch: no project policy, the branch file ignored', async (t) => {
  const repo = await twoBranchRepo(undefined, FEATURE);
  t.teardown(repo.cleanup);
  const p = await loadProjectConfig(
    ctx(repo.checkout, { ...CI, CI_COMMIT_REF_NAME: 'feature' }),
  );
  t.is(p.version.kind, 'commit');
  t.false(p.version.present);
  t.is(p.config, undefined);
});

test('a broken file on the default branch is an error', async (t) => {
  const repo = await twoBranchRepo('network_policy: [', FEATURE);
  t.teardown(repo.cleanup);
  const error = await t.throwsAsync(
    loadProjectConfig(
      ctx(repo.checkout, { ...CI, CI_COMMIT_REF_NAME: 'feature' }),
    ),
  );
  t.regex(
    error!.message,
    /agent-config\.yml@[0-9a-f]{12} \(origin\/main\): not valid YAML/,
  );
});

test('in CI without CI_DEFAULT_BRANCH or outside a repository: ignored', async (t) => {
  const repo = await twoBranchRepo(MAIN, FEATURE);
  t.teardown(repo.cleanup);
  const a = await loadProjectConfig(
    ctx(repo.checkout, { GITLAB_CI: 'true', CI_COMMIT_REF_NAME: 'feature' }),
  );
  t.is(a.version.kind, 'ignored');
  t.regex(a.version.reason, /CI_DEFAULT_BRANCH is not set/);
  const dir = await mkdtemp(path.join(os.tmpdir(), 'fsbx-nogit-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  await writeConfig(dir, FEATURE);
  await writeFile(path.join(dir, 'x'), '');
  const b = await loadProjectConfig(
    ctx(dir, { ...CI, CI_COMMIT_REF_NAME: 'main' }),
  );
  t.is(b.version.kind, 'ignored');
  t.is(b.config, undefined);
});

const refCases: [Record<string, string>, RegExp | undefined][] = [
  [{ CI_COMMIT_REF_NAME: 'main', CI_DEFAULT_BRANCH: 'main' }, undefined],
  [
    { CI_COMMIT_REF_NAME: 'dev', CI_DEFAULT_BRANCH: 'main' },
    /dev is not the default branch/,
  ],
  [
    {
      CI_COMMIT_REF_NAME: 'main',
      CI_DEFAULT_BRANCH: 'main',
      CI_COMMIT_TAG: 'main',
    },
    /tag pipeline/,
  ],
  [
    {
      CI_COMMIT_REF_NAME: 'main',
      CI_DEFAULT_BRANCH: 'main',
      CI_PIPELINE_SOURCE: 'merge_request_event',
    },
    /merge request/,
  ],
  [{ CI_DEFAULT_BRANCH: 'main' }, /CI_COMMIT_REF_NAME is not set/],
];

for (const [env, expected] of refCases) {
  test(`untrustedRefReason(${JSON.stringify(env)})`, (t) => {
    const reason = untrustedRefReason(env);
    if (expected) t.regex(reason ?? '', expected);
    else t.is(reason, undefined);
  });
}

test('branch names are checked before they go into a revision', (t) => {
  for (const ok of ['main', 'release/1.x', 'feature-x'])
    t.true(isPlainBranchName(ok), ok);
  for (const bad of [
    'main..x',
    'x:y',
    'a b',
    '-x',
    '.hidden',
    'a/.b',
    'x.lock',
    'x^{tree}',
    '@{-1}',
    'a\\b',
    '',
  ])
    t.false(isPlainBranchName(bad), bad);
  t.regex(
    untrustedRefReason({
      CI_COMMIT_REF_NAME: 'x',
      CI_DEFAULT_BRANCH: 'main:evil',
    }) ?? '',
    /not a valid branch name/,
  );
});

test('a blob id is git’s own (SHA-1, and SHA-256 for 64-digit ids)', async (t) => {
  const { blobId } = await import('../../src/policy/project-source.js');
  const text = 'network_policy:\n  allowed_domains: [a.example]\n';
  t.is(blobId(text, 40), '5249f0a73cb228e7da944d93e3254f2d222ceafe');
  t.is(blobId(text, 64).length, 64);
  t.not(blobId(`${text} `, 40), '5249f0a73cb228e7da944d93e3254f2d222ceafe');
});
