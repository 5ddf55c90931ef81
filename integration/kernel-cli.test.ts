// The kernel engine through the CLI, in the test's runner namespace:
// a run with the self-test, both backends, and a dry run that changes
// nothing.
import test from 'ava';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { kernelSkipReason } from './kernel/skip.js';
import { Testbed } from './kernel/testbed.js';

const bin = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '../../bin/flow-sandbox',
);
const testbed = new Testbed();
const anySkip = kernelSkipReason();

if (!anySkip) {
  test.before(async () => testbed.start());
  test.after.always(async () => testbed.stop());
}

function cli(args: string[]) {
  return execa('ip', ['netns', 'exec', testbed.runner, bin, ...args], {
    reject: false,
    cwd: path.join(testbed.dir, 'work'),
    env: {
      FLOW_SANDBOX_STATE_DIR: path.join(testbed.dir, 'cli-state'),
      HOME: path.join(testbed.dir, 'home'),
    },
    timeout: 60_000,
  });
}

for (const firewall of ['nft', 'iptables'] as const) {
  const skip = kernelSkipReason(firewall);
  (skip ? test.serial.skip : test.serial)(
    `${firewall}: run --engine kernel --selftest passes and runs the command${skip ? ` (skipped: ${skip})` : ''}`,
    async (t) => {
      const result = await cli([
        'run',
        '--force-sandbox',
        '--engine',
        'kernel',
        '--firewall',
        firewall,
        '--selftest',
        '--',
        'sh',
        '-c',
        'echo inside; exit 3',
      ]);
      t.is(result.exitCode, 3, result.stderr);
      t.is(result.stdout.trim(), 'inside');
      t.regex(result.stderr, /self-test PASSED/);
      t.regex(
        result.stderr,
        /engine kernel, sandbox applied, command status 3/,
      );
      const left = await testbed.inRunner([
        'sh',
        '-c',
        'ip -br link; nft list tables; iptables-save | grep -c fsbx || true',
      ]);
      t.false(/fsbx[0-9a-f]{8}/.test(left), left);
    },
  );
}

(anySkip ? test.serial.skip : test.serial)(
  `a dry run prints the ruleset and creates nothing${anySkip ? ` (skipped: ${anySkip})` : ''}`,
  async (t) => {
    const before = await testbed.inRunner([
      'sh',
      '-c',
      'ip -br link; nft list tables; sysctl -n net.ipv4.ip_forward',
    ]);
    const result = await cli([
      'run',
      '--force-sandbox',
      '--engine',
      'kernel',
      '--dry-run',
      '--allow',
      '198.18.0.0/24',
      '--',
      'true',
    ]);
    t.is(result.exitCode, 0, result.stderr);
    t.regex(result.stdout, /table inet fsbx[0-9a-f]{8} \{/);
    t.regex(result.stdout, /198\.18\.0\.0\/24/);
    t.regex(result.stdout, /netns add fsbx/);
    t.is(
      await testbed.inRunner([
        'sh',
        '-c',
        'ip -br link; nft list tables; sysctl -n net.ipv4.ip_forward',
      ]),
      before,
    );
  },
);

if (anySkip)
  test.skip(`kernel engine CLI tests (skipped: ${anySkip})`, () => {});
