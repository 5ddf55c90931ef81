import test from 'ava';
import { defaultPolicy } from '../../src/policy/defaults.js';
import {
  probeConfig,
  runSelftest,
  selftestTable,
} from '../../src/selftest/selftest.js';

const policy = defaultPolicy(
  { CI_SERVER_HOST: 'gitlab.test' },
  { home: '/home/job', cwd: '/home/job/project' },
);

test('the probe targets what the policy must refuse, skipping writable places', (t) => {
  const config = probeConfig(policy, {
    home: '/home/job',
    runId: 'abc',
    address: '198.18.0.20',
  });
  t.is(config.outsideAddress, '198.18.0.20');
  t.is(config.sshDir, '/home/job/.ssh');
  t.deepEqual(config.forbiddenWrites, [
    '/home/job/.fsbx-selftest-abc',
    '/etc/.fsbx-selftest-abc',
    '/usr/.fsbx-selftest-abc',
  ]);
  const inTmp = probeConfig(policy, { home: '/tmp/h', runId: 'abc' });
  t.deepEqual(inTmp.forbiddenWrites, [
    '/etc/.fsbx-selftest-abc',
    '/usr/.fsbx-selftest-abc',
  ]);
  t.is(inTmp.outsideAddress, '192.0.2.1');
});

test('every check must be refused; one allowed check fails the self-test', async (t) => {
  const report = JSON.stringify([
    {
      name: 'outside host by address',
      observed: 'refused',
      detail: 'ENETUNREACH',
    },
    {
      name: '~/.ssh unreadable',
      observed: 'allowed',
      detail: 'read /home/job/.ssh/id_rsa',
    },
  ]);
  const result = await runSelftest(
    async () => ({ status: 0, stdout: `${report}\n`, stderr: '' }),
    probeConfig(policy, { home: '/home/job', runId: 'x' }),
  );
  t.false(result.pass);
  t.deepEqual(
    result.checks.map((c) => c.pass),
    [true, false],
  );
  t.regex(
    selftestTable(result),
    /~\/\.ssh unreadable\s+refused\s+allowed\s+FAIL/,
  );
  t.regex(selftestTable(result), /self-test FAILED/);
});

test('a probe that cannot report is a failure, with its stderr', async (t) => {
  const result = await runSelftest(
    async () => ({ status: 127, stdout: '', stderr: 'node: not found' }),
    probeConfig(policy, { home: '/home/job', runId: 'x' }),
  );
  t.false(result.pass);
  t.regex(result.checks[0]!.detail, /node: not found/);
});

test('a hang is not a refusal', async (t) => {
  const report = JSON.stringify([
    {
      name: 'DNS to another server (UDP)',
      observed: 'error',
      detail: 'no answer and no refusal within 3000 ms',
    },
  ]);
  const result = await runSelftest(
    async () => ({ status: 0, stdout: report, stderr: '' }),
    probeConfig(policy, { home: '/home/job', runId: 'x' }),
  );
  t.false(result.pass);
});
