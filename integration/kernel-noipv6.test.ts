// A runner without IPv6 (the usual Docker job container): the sandbox gets
// no IPv6 either, and everything else works.
import test from 'ava';
import { writableSysctl } from '../scripts/testnet/netns.js';
import { checkScript, parseChecks } from './kernel/probe-script.js';
import { kernelSkipReason } from './kernel/skip.js';
import { HOSTS, Testbed } from './kernel/testbed.js';

const testbed = new Testbed();
const anySkip = kernelSkipReason();

if (!anySkip) {
  test.before(async () => {
    await testbed.start();
    // Read-only /proc/sys (a job container) is no reason to test nothing.
    const out = await testbed.inRunner(
      writableSysctl([
        '-qw',
        'net.ipv6.conf.all.disable_ipv6=1',
        'net.ipv6.conf.default.disable_ipv6=1',
      ]),
    );
    if (out.trim()) throw new Error(`IPv6 could not be switched off: ${out}`);
  });
  test.after.always(async () => testbed.stop());
}

for (const firewall of ['nft', 'iptables'] as const) {
  const skip = kernelSkipReason(firewall);
  (skip ? test.serial.skip : test.serial)(
    `${firewall}: without IPv6 on the runner the sandbox runs IPv4 only${skip ? ` (skipped: ${skip})` : ''}`,
    async (t) => {
      const config = testbed.runConfig({
        firewall,
        argv: [
          'sh',
          '-c',
          checkScript([
            ['allowed', 'curl -sSf -m 5 http://gitlab.test/'],
            ['refused', `curl -sS -m 5 http://${HOSTS.outside}/`],
            ['noIpv6', 'test -z "$(ip -6 addr show scope global)"'],
          ]),
        ],
      });
      const result = await testbed.launch(config);
      const r = parseChecks(result.stdout);
      t.is(result.exitCode, 0, result.stderr);
      t.true(r.allowed?.ok && r.noIpv6?.ok, JSON.stringify(r));
      t.false(r.refused?.ok ?? true);
      t.deepEqual(await testbed.leftovers(config), []);
    },
  );
}

if (anySkip)
  test.skip(`kernel engine IPv6-less runner tests (skipped: ${anySkip})`, () => {});
