import test from 'ava';
import { probeKernel } from '../../../src/engines/kernel/probe.js';
import type { CommandRunner } from '../../../src/exec/runner.js';
import { memoryLogger } from '../../../src/log/logger.js';

test('a shallow probe looks only: it starts no process', async (t) => {
  const exec: CommandRunner = {
    run: async (argv) => t.fail(`ran ${argv.join(' ')}`) as never,
  };
  const result = await probeKernel(
    { exec, log: memoryLogger(), env: { PATH: process.env.PATH }, cwd: '/' },
    { deep: false },
  );
  t.is(result.engine, 'kernel');
  t.true(result.checks.some((c) => c.name === 'privileges'));
  t.true(result.checks.some((c) => c.name === 'firewall'));
  for (const name of ['ip', 'unshare', 'setpriv']) {
    const check = result.checks.find((c) => c.name === name)!;
    t.is(check.ok, !!result.facts?.[name]);
  }
});

test('without the tools the engine is unusable, and says how to fix it', async (t) => {
  const exec: CommandRunner = { run: async () => t.fail() as never };
  const result = await probeKernel(
    { exec, log: memoryLogger(), env: { PATH: '/nonexistent' }, cwd: '/' },
    { deep: true },
  );
  // The sbin directories are always searched, so only check what is consistent.
  const missing = result.checks.filter((c) => !c.ok);
  t.is(result.usable, missing.length === 0);
  for (const check of missing) t.truthy(check.fix);
});
