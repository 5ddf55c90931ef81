import test from 'ava';
import {
  grantElements,
  renderNftElements,
  renderNftRuleset,
} from '../../src/firewall/nft.js';
import { planFirewall } from '../../src/firewall/plan.js';
import { sampleSpec } from './helpers.js';

const ruleset = renderNftRuleset(sampleSpec());
const lines = ruleset.split('\n').map((l) => l.trim());

test('one inet table of the run, loaded as one transaction', (t) => {
  t.true(ruleset.startsWith('table inet fsbxa1b2c3d4 {\n'));
  t.is(ruleset.match(/^table /gm)!.length, 1);
  const plan = planFirewall(sampleSpec(), 'nft');
  t.deepEqual(
    plan.setup.map((s) => s.argv),
    [['nft', '--echo', '-f', '-']],
  );
  t.is(
    plan.setup[0]!.expect,
    'add rule inet fsbxa1b2c3d4 sandbox_out goto refuse',
  );
  t.is(plan.setup[0]!.input, ruleset);
  t.deepEqual(plan.teardown[0]!.argv, [
    'nft',
    'delete',
    'table',
    'inet',
    'fsbxa1b2c3d4',
  ]);
});

test('only packets on the run veth are hooked', (t) => {
  t.true(lines.includes('iifname "fsbxa1b2c3d4h" goto sandbox_out'));
  t.true(lines.includes('iifname "fsbxa1b2c3d4h" goto sandbox_in'));
  t.true(
    lines.includes(
      'oifname "fsbxa1b2c3d4h" ct state established,related accept',
    ),
  );
  const hooks = lines.filter((l) => l.includes(' hook '));
  t.deepEqual(hooks, [
    'type filter hook forward priority filter; policy accept;',
    'type filter hook input priority filter; policy accept;',
    'type nat hook prerouting priority dstnat; policy accept;',
    'type nat hook postrouting priority srcnat; policy accept;',
  ]);
  t.true(
    lines.includes('iifname "fsbxa1b2c3d4h" dnat ip to ip daddr map @via4'),
  );
});

test('learned elements are stand-ins: opened as the sandbox addressed them, mapped to the real address', (t) => {
  t.true(lines.includes('ct original ip daddr @dyn4 accept'));
  t.true(lines.includes('ct original ip6 daddr . tcp dport @dyn6p accept'));
  t.true(
    lines.includes('ip daddr @deny4 goto refuse'),
    'policy rules judge the real address',
  );
  const elements = grantElements({
    family: 4,
    address: '10.218.0.1',
    target: '198.18.0.10',
    ports: 'any',
    denyPorts: [],
  });
  t.is(
    renderNftElements('fsbxt', {
      add: elements.map((e) => ({ ...e, timeoutSec: 300 })),
      remove: [],
    }),
    'add element inet fsbxt via4 { 10.218.0.1 timeout 300s : 198.18.0.10 }\nadd element inet fsbxt dyn4 { 10.218.0.1 timeout 300s }\n',
  );
});

test('DNS only to the run resolver, UDP and TCP, IPv4 and IPv6', (t) => {
  t.true(
    lines.includes(
      'ip daddr 10.217.0.9 meta l4proto { tcp, udp } th dport 53 accept',
    ),
  );
  t.true(
    lines.includes(
      'ip6 daddr fd5b:f5b0:8f2a:2::1 meta l4proto { tcp, udp } th dport 53 accept',
    ),
  );
  t.is(lines.filter((l) => l.includes('dport 53')).length, 2);
});

test('blocks go to interval sets, single addresses to hash sets, with or without a port', (t) => {
  t.regex(
    ruleset,
    /set allow4 \{\n\t\ttype ipv4_addr\n\t\tflags interval\n\t\telements = \{\n\t\t\t198\.18\.0\.0\/24\n\t\t\}\n\t\}/,
  );
  t.regex(
    ruleset,
    /set host4p \{\n\t\ttype ipv4_addr \. inet_service\n\t\tsize 1\n\t\telements = \{\n\t\t\t198\.18\.1\.7 \. 443\n/,
  );
  t.regex(ruleset, /set allow6 \{[^}]*2001:db8::\/64/);
  t.regex(ruleset, /set deny4 \{[^}]*198\.18\.0\.66/);
  t.regex(
    ruleset,
    /set dyn4p \{\n\t\ttype ipv4_addr \. inet_service\n\t\tflags timeout\n\t\}/,
  );
});

test('only TCP passes, deny sets before allow sets, everything else refused', (t) => {
  const out = ruleset.slice(
    ruleset.indexOf('chain sandbox_out'),
    ruleset.indexOf('chain refuse'),
  );
  const order = [
    'meta l4proto != tcp goto refuse',
    '@deny4 goto',
    '@dyndeny4p goto',
    '@allow4 accept',
    '@dyn4p accept',
    'goto refuse\n\t}',
  ];
  const positions = order.map((needle) => out.indexOf(needle));
  t.false(positions.includes(-1), String(positions));
  t.deepEqual(
    [...positions].sort((a, b) => a - b),
    positions,
  );
});

test('refused packets are counted per destination and rejected at once', (t) => {
  t.true(
    lines.includes(
      'meta nfproto ipv4 meta l4proto { tcp, udp } update @rej4 { ip daddr . meta l4proto . th dport counter }',
    ),
  );
  t.true(
    lines.includes(
      'meta l4proto tcp counter name rejected reject with tcp reset',
    ),
  );
  t.true(
    lines.includes('counter name rejected reject with icmpx admin-prohibited'),
  );
  t.false(
    /\bdrop\b/.test(
      ruleset.replace('meta pkttype { broadcast, multicast } drop', ''),
    ),
    'nothing is dropped silently but link-local chatter',
  );
});

test('traffic leaves masqueraded through the runner route', (t) => {
  t.true(
    lines.includes(
      'ip saddr 10.217.0.10 oifname != "fsbxa1b2c3d4h" masquerade',
    ),
  );
  t.true(
    lines.includes(
      'ip6 saddr fd5b:f5b0:8f2a:2::2 oifname != "fsbxa1b2c3d4h" masquerade',
    ),
  );
});

test('a grant becomes set elements keyed by address, or address and port', (t) => {
  const any = grantElements({
    family: 4,
    address: '198.18.0.10',
    ports: 'any',
    denyPorts: [22],
    timeoutSec: 300,
  });
  t.deepEqual(any, [
    { set: 'dyn4', key: '198.18.0.10' },
    { set: 'dyndeny4p', key: '198.18.0.10 . 22' },
  ]);
  const ported = grantElements({
    family: 6,
    address: '2001:db8::10',
    ports: [443, 8443],
    denyPorts: [],
  });
  t.deepEqual(
    ported.map((e) => `${e.set} ${e.key}`),
    ['dyn6p 2001:db8::10 . 443', 'dyn6p 2001:db8::10 . 8443'],
  );
  t.is(
    renderNftElements('fsbxt', {
      add: [
        { set: 'dyn4', key: '1.2.3.4', timeoutSec: 300 },
        { set: 'dyn4', key: '1.2.3.5' },
      ],
      remove: [{ set: 'dyn4', key: '1.2.3.4' }],
    }),
    'delete element inet fsbxt dyn4 { 1.2.3.4 }\nadd element inet fsbxt dyn4 { 1.2.3.4 timeout 300s }\nadd element inet fsbxt dyn4 { 1.2.3.5 }\n',
  );
});

/** A spec with `n` single allowed addresses. */
function manyAddresses(n: number) {
  return sampleSpec({
    allow: Array.from({ length: n }, (_, i) => ({
      family: 4 as const,
      cidr: `198.19.${i >> 8}.${i & 255}`,
    })),
  });
}

test('a large table loads without echo and is checked by one small set', (t) => {
  const plan = planFirewall(manyAddresses(300), 'nft');
  t.deepEqual(
    plan.setup.map((s) => s.argv),
    [['nft', '-f', '-']],
  );
  t.deepEqual(plan.verify, [
    {
      argv: ['nft', 'list', 'set', 'inet', 'fsbxa1b2c3d4', 'rej4'],
      expect: 'set rej4 {',
    },
  ]);
  // The set checked is one the same transaction creates.
  t.regex(plan.setup[0]!.input!, /^\tset rej4 \{$/m);
});

test('a large table that is not in place fails the load (fail closed)', async (t) => {
  const { loadFirewall } = await import('../../src/firewall/apply.js');
  const plan = planFirewall(manyAddresses(300), 'nft');
  const listing = 'table inet fsbxa1b2c3d4 {\n\tset rej4 {\n\t}\n}\n';
  const runner = (stdout: string, exitCode = 0) => ({
    run: async (argv: readonly string[]) => ({
      exitCode: argv.includes('list') ? exitCode : 0,
      stdout: argv.includes('list') ? stdout : '',
      stderr: exitCode ? 'Error: No such file or directory' : '',
    }),
  });
  await t.notThrowsAsync(loadFirewall(runner(listing), plan));
  await t.throwsAsync(loadFirewall(runner(''), plan), {
    message:
      /nft list set inet fsbxa1b2c3d4 rej4 \(status 0\) did not show "set rej4 \{"/,
  });
  await t.throwsAsync(loadFirewall(runner(listing, 1), plan), {
    message: /are not in place/,
  });
});

test('each static entry goes to the set of its family, port and kind', (t) => {
  const text = renderNftRuleset(
    sampleSpec({
      allow: [
        { family: 4, cidr: '198.18.0.0/24' },
        { family: 4, cidr: '10.0.0.0/8', port: 80 },
        { family: 4, cidr: '198.18.1.7' },
        { family: 4, cidr: '198.18.1.8', port: 443 },
        { family: 6, cidr: '2001:db8::/64' },
        { family: 6, cidr: '2001:db8:1::/48', port: 22 },
        { family: 6, cidr: '2001:db8::5' },
        { family: 6, cidr: '2001:db8::6', port: 8080 },
      ],
      deny: [
        { family: 4, cidr: '198.18.0.66' },
        { family: 4, cidr: '1.2.3.4', port: 9 },
        { family: 6, cidr: '2001:db8::/48' },
        { family: 6, cidr: '2001:db8::7', port: 25 },
      ],
    }),
  );
  const elements = (set: string) =>
    new RegExp(`set ${set} \\{[^}]*elements = \\{\\n([^}]*)\\}`)
      .exec(text)?.[1]
      ?.split(',')
      .map((e) => e.trim());
  t.deepEqual(elements('allow4'), ['198.18.0.0/24']);
  t.deepEqual(elements('allow4p'), ['10.0.0.0/8 . 80']);
  t.deepEqual(elements('host4'), ['198.18.1.7']);
  t.deepEqual(elements('host4p'), ['198.18.1.8 . 443']);
  t.deepEqual(elements('allow6'), ['2001:db8::/64']);
  t.deepEqual(elements('allow6p'), ['2001:db8:1::/48 . 22']);
  t.deepEqual(elements('host6'), ['2001:db8::5']);
  t.deepEqual(elements('host6p'), ['2001:db8::6 . 8080']);
  t.deepEqual(elements('deny4'), ['198.18.0.66']);
  t.deepEqual(elements('deny4p'), ['1.2.3.4 . 9']);
  t.deepEqual(elements('deny6'), ['2001:db8::/48']);
  t.deepEqual(elements('deny6p'), ['2001:db8::7 . 25']);
});
