import test from 'ava';
import {
  checkSelftestAddress,
  buildReport,
  selftestHook,
  type SelftestState,
} from '../../src/cli/finish.js';
import type { RunOptions } from '../../src/cli/options.js';
import { memoryLogger } from '../../src/log/logger.js';
import { defaultPolicy } from '../../src/policy/defaults.js';
import type { RunPlan } from '../../src/plan/types.js';

const policy = defaultPolicy({}, { home: '/home/job', cwd: '/builds/p' });

function plan(minimumLevel: 'none' | 'srt'): RunPlan {
  return {
    runId: 'r1',
    decision: { apply: true, reason: 'forced', conditions: [] },
    policy,
    engine: {
      chosen: 'srt',
      requested: 'auto',
      minimumLevel,
      candidates: [],
      reason: 'test',
    },
    command: { argv: ['true'], cwd: '/builds/p' },
    stateDir: '/run/x',
    enginePlan: { engine: 'srt', warnings: ['w'], details: {} },
  } as unknown as RunPlan;
}

const failing = async () => ({
  status: 0,
  stdout: JSON.stringify([
    { name: '~/.ssh unreadable', observed: 'allowed', detail: 'read id_rsa' },
  ]),
  stderr: '',
});
const options = { selftest: true } as RunOptions;
const ctx = (log = memoryLogger()) => ({
  log,
  env: { HOME: '/home/job' },
  cwd: '/builds/p',
  exec: undefined as never,
});

test('a failed self-test stops the job when a minimum level is set', async (t) => {
  const state = {};
  const hook = selftestHook(ctx(), options, plan('srt'), state);
  t.false(await hook.beforeCommand!(failing));
});

test('without a minimum level a failed self-test is a loud error and the job runs', async (t) => {
  const log = memoryLogger();
  const state: SelftestState = {};
  const hook = selftestHook(ctx(log), options, plan('none'), state);
  t.true(await hook.beforeCommand!(failing));
  t.false(state.result!.pass);
  t.true(log.lines.some((l) => /SELF-TEST FAILED/.test(l)));
});

test('no hook without --selftest', (t) => {
  t.deepEqual(
    selftestHook(ctx(), { selftest: false } as RunOptions, plan('srt'), {}),
    {},
  );
});

test('the report of an unsandboxed run says nothing was observed', (t) => {
  const p = plan('none');
  p.engine.chosen = 'none';
  const report = buildReport(p, { exitCode: 3 });
  t.false(report.sandboxApplied);
  t.is(report.exitCode, 3);
  t.deepEqual(report.blocked.visibility, [
    'no sandbox: nothing was blocked or observed',
  ]);
});

test('a self-test address the policy allows is refused before anything is applied', (t) => {
  const allowing = defaultPolicy(
    { CI_SERVER_HOST: '198.18.99.2' },
    { home: '/home/job', cwd: '/builds/p' },
  );
  const asked = {
    selftest: true,
    selftestAddress: '198.18.99.2',
  } as RunOptions;
  const error = t.throws(() => checkSelftestAddress(asked, allowing));
  t.regex(
    error!.message,
    /--selftest-address: "198\.18\.99\.2" is not accepted/,
  );
  t.regex(error!.message, /allow entry 198\.18\.99\.2 from CI_SERVER_HOST/);
  t.notThrows(() => checkSelftestAddress(asked, policy));
  t.notThrows(() =>
    checkSelftestAddress({ ...asked, selftest: false }, allowing),
  );
  t.notThrows(() =>
    checkSelftestAddress({ selftest: true } as RunOptions, allowing),
  );
});
