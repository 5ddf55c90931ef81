import test from 'ava';
import { iptablesGate } from '../../src/firewall/gate-iptables.js';
import { nftGate } from '../../src/firewall/gate-nft.js';
import { memoryLogger } from '../../src/log/logger.js';
import { fakeRunner } from './helpers.js';

test('answers that arrive together cost one nft process', async (t) => {
  const { runner, calls } = fakeRunner();
  const gate = nftGate({ exec: runner, table: 'fsbxt' });
  await Promise.all([
    gate.grant([
      {
        family: 4,
        address: '198.18.0.10',
        ports: 'any',
        denyPorts: [],
        timeoutSec: 300,
      },
    ]),
    gate.grant([
      {
        family: 4,
        address: '198.18.0.11',
        ports: [443],
        denyPorts: [],
        timeoutSec: 300,
      },
    ]),
  ]);
  t.is(calls.length, 1);
  t.is(
    calls[0]!.input,
    'add element inet fsbxt dyn4 { 198.18.0.10 timeout 300s }\nadd element inet fsbxt dyn4p { 198.18.0.11 . 443 timeout 300s }\n',
  );
});

test('a repeated answer costs nothing; a longer one refreshes the element', async (t) => {
  let now = 1_000_000;
  const { runner, calls } = fakeRunner();
  const gate = nftGate({ exec: runner, table: 'fsbxt', now: () => now });
  const grant = (timeoutSec: number) =>
    gate.grant([
      {
        family: 4,
        address: '198.18.0.10',
        ports: 'any',
        denyPorts: [],
        timeoutSec,
      },
    ]);
  await grant(300);
  await grant(300);
  t.is(calls.length, 1);
  now += 100_000;
  await grant(300);
  t.is(calls.length, 2);
  t.is(
    calls[1]!.input,
    'delete element inet fsbxt dyn4 { 198.18.0.10 }\nadd element inet fsbxt dyn4 { 198.18.0.10 timeout 300s }\n',
  );
  now += 400_000;
  await grant(300);
  t.is(
    calls[2]!.input,
    'add element inet fsbxt dyn4 { 198.18.0.10 timeout 300s }\n',
    'expired: added again',
  );
});

test('an element that expired while being refreshed is simply added', async (t) => {
  let now = 0;
  const { runner, calls } = fakeRunner(
    (_argv, input) => !!input?.startsWith('delete'),
  );
  const gate = nftGate({ exec: runner, table: 'fsbxt', now: () => now });
  await gate.grant([
    {
      family: 4,
      address: '198.18.0.10',
      ports: 'any',
      denyPorts: [],
      timeoutSec: 10,
    },
  ]);
  now = 5_000;
  await gate.grant([
    {
      family: 4,
      address: '198.18.0.10',
      ports: 'any',
      denyPorts: [],
      timeoutSec: 300,
    },
  ]);
  t.is(calls.length, 3);
  t.is(
    calls[2]!.input,
    'add element inet fsbxt dyn4 { 198.18.0.10 timeout 300s }\n',
  );
});

test('a failing nft load fails the grant (the answer is then SERVFAIL)', async (t) => {
  const { runner } = fakeRunner(() => true);
  const gate = nftGate({ exec: runner, table: 'fsbxt' });
  await t.throwsAsync(
    gate.grant([
      { family: 4, address: '198.18.0.10', ports: 'any', denyPorts: [] },
    ]),
  );
});

test('iptables: rules are added once and deleted when they expire', async (t) => {
  let now = 0;
  const { runner, calls } = fakeRunner();
  const gate = iptablesGate({
    exec: runner,
    chain: 'fsbxt',
    log: memoryLogger(),
    now: () => now,
  });
  const grant = {
    family: 4 as const,
    address: '198.18.0.10',
    ports: [443],
    denyPorts: [],
    timeoutSec: 1,
  };
  await gate.grant([grant, { ...grant, family: 6, address: '2001:db8::10' }]);
  await gate.grant([grant]);
  t.deepEqual(
    calls.map((c) => c.argv[0]),
    ['iptables-restore', 'ip6tables-restore'],
  );
  t.is(
    calls[0]!.input,
    '*filter\n-A fsbxt-dyn -m conntrack --ctorigdst 198.18.0.10/32 -p tcp --dport 443 -j ACCEPT\nCOMMIT\n',
  );
  now = 2_000;
  await new Promise((resolve) => setTimeout(resolve, 700));
  await gate.close();
  t.is(calls.length, 4);
  t.is(
    calls[2]!.input,
    '*filter\n-D fsbxt-dyn -m conntrack --ctorigdst 198.18.0.10/32 -p tcp --dport 443 -j ACCEPT\nCOMMIT\n',
  );
});

test('a load that does not show the rules in place fails (fail closed)', async (t) => {
  const { loadFirewall } = await import('../../src/firewall/apply.js');
  const { planFirewall } = await import('../../src/firewall/plan.js');
  const { sampleSpec } = await import('./helpers.js');
  // A fake nft: succeeds and prints nothing, as an npm package named nft did.
  const { runner } = fakeRunner();
  await t.throwsAsync(loadFirewall(runner, planFirewall(sampleSpec(), 'nft')), {
    message: /are not in place: nft --echo -f - \(status 0\) did not show/,
  });
  await t.throwsAsync(
    loadFirewall(runner, planFirewall(sampleSpec(), 'iptables')),
    {
      message: /iptables -w -S fsbxa1b2c3d4-to/,
    },
  );
});
