import test from 'ava';
import { removeIptablesRules } from '../../src/firewall/apply.js';
import { renderIptablesTeardown } from '../../src/firewall/iptables.js';
import { kernelNames } from '../../src/netns/names.js';
import { fakeRunner } from './helpers.js';

const names = kernelNames('a1b2c3d4');
const rules = {
  chain: names.chain,
  ipv6: true,
  teardown: renderIptablesTeardown({ names }),
};

test('iptables rules of a run cut short are removed line by line, both families', async (t) => {
  // The batch fails as a whole when part of it is already gone.
  const { runner, calls } = fakeRunner((argv) => argv[0]!.endsWith('-restore'));
  await removeIptablesRules(runner, rules);
  const lines = calls.map((c) => c.argv.join(' '));
  t.true(lines.includes('iptables-restore --noflush --wait'));
  t.true(lines.includes('ip6tables-restore --noflush --wait'));
  t.true(lines.includes(`iptables -w -t nat -X ${names.chain}-nat`));
  t.true(lines.includes(`ip6tables -w -t filter -X ${names.chain}-out`));
  t.true(lines.includes('ip6tables -w -t nat -S'), 'then checks');
});

test('rules still there after the removal fail it, for cleanup to try again', async (t) => {
  const { runner } = fakeRunner();
  const listing = {
    async run(argv: readonly string[]) {
      const result = await runner.run(argv);
      return argv.includes('-S')
        ? { ...result, stdout: `-N ${names.chain}-out\n` }
        : result;
    },
  };
  await t.throwsAsync(removeIptablesRules(listing, rules), {
    message: /still holds rules of fsbxa1b2c3d4/,
  });
});
