// A reused checkout's .git was writable to earlier jobs. The trusted
// (default-branch) agent configuration is read from git objects, so one
// rewritten in place, or a replace ref, must not decide the policy.
import test from 'ava';
import { execFile } from 'node:child_process';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { deflateSync } from 'node:zlib';
import { FLOW_SANDBOX } from '../sandbox-run.js';

const run = promisify(execFile);
const CI = {
  GITLAB_CI: 'true',
  CI: 'true',
  CI_DEFAULT_BRANCH: 'main',
  CI_COMMIT_REF_NAME: 'main',
  FLOW_SANDBOX_LOG_LEVEL: 'warn',
};

/** git in `dir`, as a committer that needs no configuration. */
const gitIn =
  (dir: string) =>
  (...args: string[]) =>
    run('git', [
      '-C',
      dir,
      '-c',
      'user.email=t@t',
      '-c',
      'user.name=t',
      ...args,
    ]);

async function repo(): Promise<string> {
  const dir = await mkdtemp('/tmp/fsbx-tamper-');
  const git = gitIn(dir);
  await git('init', '-q', '-b', 'main');
  await mkdir(path.join(dir, '.gitlab/duo'), { recursive: true });
  await writeFile(
    path.join(dir, '.gitlab/duo/agent-config.yml'),
    'network_policy:\n  allowed_domains: [good.example]\n',
  );
  await git('add', '-A');
  await git('commit', '-qm', 'trusted');
  return dir;
}

async function dryRun(dir: string) {
  return run(
    FLOW_SANDBOX,
    ['run', '--dry-run', '--force-sandbox', '--', 'true'],
    {
      cwd: dir,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: '/root', ...CI },
    },
  ).then(
    (r) => ({ code: 0, out: r.stdout + r.stderr }),
    (e: { code: number; stdout: string; stderr: string }) => ({
      code: e.code,
      out: e.stdout + e.stderr,
    }),
  );
}

test('a loose object rewritten in place stops the run', async (t) => {
  const dir = await repo();
  try {
    const { stdout } = await run('git', [
      '-C',
      dir,
      'rev-parse',
      'HEAD:.gitlab/duo/agent-config.yml',
    ]);
    const id = stdout.trim();
    const file = path.join(dir, '.git/objects', id.slice(0, 2), id.slice(2));
    const forged = Buffer.from(
      'network_policy:\n  allowed_domains: [evil.example]\n',
    );
    await chmod(file, 0o644);
    await writeFile(
      file,
      deflateSync(
        Buffer.concat([Buffer.from(`blob ${forged.length}\0`), forged]),
      ),
    );
    const result = await dryRun(dir);
    t.is(result.code, 125, result.out);
    t.regex(result.out, /stored content hashes otherwise/);
    t.notRegex(result.out, /evil\.example/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a replace ref does not stand in for the trusted commit', async (t) => {
  const dir = await repo();
  try {
    const git = gitIn(dir);
    const trusted = (await git('rev-parse', 'HEAD')).stdout.trim();
    await git('checkout', '-q', '-b', 'forge');
    await writeFile(
      path.join(dir, '.gitlab/duo/agent-config.yml'),
      'network_policy:\n  allowed_domains: [evil.example]\n',
    );
    await git('commit', '-qam', 'forged');
    const forged = (await git('rev-parse', 'HEAD')).stdout.trim();
    await git('checkout', '-q', 'main');
    await git('replace', trusted, forged);
    const result = await dryRun(dir);
    t.is(result.code, 0, result.out);
    t.regex(result.out, /good\.example/);
    t.notRegex(result.out, /evil\.example/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
