import test from 'ava';
import {
  iptablesGrantRules,
  renderIptables,
  renderIptablesRules,
  renderIptablesTeardown,
} from '../../src/firewall/iptables.js';
import { planFirewall } from '../../src/firewall/plan.js';
import { sampleSpec } from './helpers.js';

const v4 = renderIptables(sampleSpec(), 4).split('\n');
const v6 = renderIptables(sampleSpec(), 6).split('\n');

test('own chains, reached only by jumps for the run veth', (t) => {
  t.deepEqual(
    v4.filter((l) => /^-I /.test(l)),
    [
      '-I FORWARD 1 -i fsbxa1b2c3d4h -j fsbxa1b2c3d4-out',
      '-I FORWARD 1 -o fsbxa1b2c3d4h -j fsbxa1b2c3d4-to',
      '-I INPUT 1 -i fsbxa1b2c3d4h -j fsbxa1b2c3d4-in',
      '-I POSTROUTING 1 -j fsbxa1b2c3d4-nat',
      '-I PREROUTING 1 -i fsbxa1b2c3d4h -j fsbxa1b2c3d4-via',
    ],
  );
  t.true(
    v4.every((l) => !l.startsWith('-A') || l.startsWith('-A fsbxa1b2c3d4-')),
  );
  t.true(
    v4.every((l) => !/^-[FXPZ] /.test(l)),
    'never flushes or changes built-in chains',
  );
});

test('the same rules as nft: DNS to the resolver, TCP only, deny first', (t) => {
  t.true(
    v4.includes(
      '-A fsbxa1b2c3d4-in -d 10.217.0.9/32 -p udp --dport 53 -j ACCEPT',
    ),
  );
  t.true(
    v4.includes(
      '-A fsbxa1b2c3d4-in -d 10.217.0.9/32 -p tcp --dport 53 -j ACCEPT',
    ),
  );
  const out = v4.filter((l) => l.startsWith('-A fsbxa1b2c3d4-out'));
  t.deepEqual(out, [
    '-A fsbxa1b2c3d4-out -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT',
    '-A fsbxa1b2c3d4-out ! -p tcp -j fsbxa1b2c3d4-rej',
    '-A fsbxa1b2c3d4-out -d 198.18.0.66/32 -p tcp -j fsbxa1b2c3d4-rej',
    '-A fsbxa1b2c3d4-out -j fsbxa1b2c3d4-dyd',
    '-A fsbxa1b2c3d4-out -d 198.18.0.0/24 -p tcp -j ACCEPT',
    '-A fsbxa1b2c3d4-out -d 198.18.1.7/32 -p tcp --dport 443 -j ACCEPT',
    '-A fsbxa1b2c3d4-out -j fsbxa1b2c3d4-dyn',
    '-A fsbxa1b2c3d4-out -j fsbxa1b2c3d4-rej',
  ]);
  t.true(
    v4.includes(
      '-A fsbxa1b2c3d4-rej -j REJECT --reject-with icmp-admin-prohibited',
    ),
  );
  t.true(
    v4.includes(
      '-A fsbxa1b2c3d4-nat -s 10.217.0.10/32 ! -o fsbxa1b2c3d4h -j MASQUERADE',
    ),
  );
});

test('IPv6 has its own batch with neighbour discovery and its own entries', (t) => {
  t.true(
    v6.includes(
      '-A fsbxa1b2c3d4-in -p ipv6-icmp --icmpv6-type neighbour-solicitation -j ACCEPT',
    ),
  );
  t.true(v6.includes('-A fsbxa1b2c3d4-out -d 2001:db8::/64 -p tcp -j ACCEPT'));
  t.false(v6.some((l) => l.includes('198.18.')));
  t.true(
    v6.includes(
      '-A fsbxa1b2c3d4-rej -j REJECT --reject-with icmp6-adm-prohibited',
    ),
  );
});

test('restore always runs with --noflush; without ip6tables only IPv4 is loaded', (t) => {
  const plan = planFirewall(sampleSpec(), 'iptables');
  t.deepEqual(
    plan.setup.map((s) => s.argv),
    [
      ['iptables-restore', '--noflush', '--wait'],
      ['ip6tables-restore', '--noflush', '--wait'],
    ],
  );
  const v4only = planFirewall(sampleSpec({ ipv6: false }), 'iptables');
  t.is(v4only.setup.length, 1);
  t.is(v4only.teardown.length, 1);
});

test('teardown deletes the jumps, then flushes and deletes the own chains', (t) => {
  const text = renderIptablesTeardown(sampleSpec());
  t.true(text.includes('-D FORWARD -i fsbxa1b2c3d4h -j fsbxa1b2c3d4-out\n'));
  t.true(text.includes('-D POSTROUTING -j fsbxa1b2c3d4-nat\n'));
  t.true(
    text.indexOf('-F fsbxa1b2c3d4-out') < text.indexOf('-X fsbxa1b2c3d4-out'),
  );
  t.false(/^-[FX] (FORWARD|INPUT|POSTROUTING)/m.test(text));
});

test('learned addresses become rules in the learned chains', (t) => {
  const rules = iptablesGrantRules('fsbxa', {
    family: 4,
    address: '198.18.0.10',
    ports: [443],
    denyPorts: [],
  });
  t.deepEqual(rules, [
    {
      table: 'filter',
      rule: 'fsbxa-dyn -m conntrack --ctorigdst 198.18.0.10/32 -p tcp --dport 443 -j ACCEPT',
    },
  ]);
  const any = iptablesGrantRules('fsbxa', {
    family: 6,
    address: '2001:db8::10',
    ports: 'any',
    denyPorts: [22],
  });
  t.deepEqual(
    any.map((r) => r.rule),
    [
      'fsbxa-dyn -m conntrack --ctorigdst 2001:db8::10/128 -p tcp -j ACCEPT',
      'fsbxa-dyd -m conntrack --ctorigdst 2001:db8::10/128 -p tcp --dport 22 -j fsbxa-rej',
    ],
  );
  t.is(
    renderIptablesRules('-D', rules),
    '*filter\n-D fsbxa-dyn -m conntrack --ctorigdst 198.18.0.10/32 -p tcp --dport 443 -j ACCEPT\nCOMMIT\n',
  );
});

test('a stand-in is opened as the sandbox addresses it and translated in the nat table', (t) => {
  const rules = iptablesGrantRules('fsbxa', {
    family: 4,
    address: '10.218.0.1',
    target: '198.18.0.10',
    ports: 'any',
    denyPorts: [],
  });
  t.is(
    renderIptablesRules('-A', rules),
    [
      '*filter',
      '-A fsbxa-dyn -m conntrack --ctorigdst 10.218.0.1/32 -p tcp -j ACCEPT',
      'COMMIT',
      '*nat',
      '-A fsbxa-via -d 10.218.0.1/32 -j DNAT --to-destination 198.18.0.10',
      'COMMIT',
      '',
    ].join('\n'),
  );
});
