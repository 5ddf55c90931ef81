import test from 'ava';
import { chainOf, needsFollowing } from '../../src/dns/answers.js';
import {
  allowanceFor,
  chainNameDenied,
  grantsFor,
  NameRules,
} from '../../src/dns/decide.js';
import { nameMayBeAllowed } from '../../src/policy/match.js';
import { rules } from './helpers.js';

const policy = new NameRules(
  rules(
    [
      'gitlab.test',
      '*.gitlab.test',
      'registry.test:443',
      'registry.test:5000',
      'only.test:22',
    ],
    [
      'secret.gitlab.test',
      'api.gitlab.test:22',
      'registry.test:5000',
      'only.test:22',
      'evil.cdn.test',
    ],
  ),
);

test('which ports a name opens', (t) => {
  t.deepEqual(allowanceFor(policy, 'gitlab.test'), {
    ports: 'any',
    denyPorts: [],
  });
  t.deepEqual(allowanceFor(policy, 'API.gitlab.test.'), {
    ports: 'any',
    denyPorts: [22],
  });
  t.deepEqual(allowanceFor(policy, 'registry.test'), {
    ports: [443],
    denyPorts: [],
  });
  t.is(allowanceFor(policy, 'secret.gitlab.test'), undefined);
  t.is(allowanceFor(policy, 'only.test'), undefined, 'its only port is denied');
  t.is(allowanceFor(policy, 'outside.test'), undefined);
  t.is(allowanceFor(policy, 'gitlab.test.outside.test'), undefined);
});

test('an alias must not lead to a denied name', (t) => {
  t.true(chainNameDenied(policy, 'evil.cdn.test'));
  t.false(
    chainNameDenied(policy, 'api.gitlab.test'),
    'a deny with a port does not deny the name',
  );
});

test('grants take max(TTL, floor); hosts-file grants last the whole run', (t) => {
  const allowance = { ports: 'any' as const, denyPorts: [] };
  const addresses = [
    { family: 4 as const, address: '198.18.0.1', ttl: 5 },
    { family: 6 as const, address: '2001:db8::1', ttl: 3600 },
  ];
  t.deepEqual(
    grantsFor({ allowance, addresses, ttlFloorSec: 60 }).map(
      (g) => g.timeoutSec,
    ),
    [60, 3600],
  );
  t.deepEqual(
    grantsFor({ allowance, addresses, ttlFloorSec: 60, permanent: true }).map(
      (g) => g.timeoutSec,
    ),
    [undefined, undefined],
  );
});

test('CNAME chains are followed in order, loops cut', (t) => {
  const answers = [
    { type: 'CNAME' as const, name: 'b.test', data: 'c.test' },
    { type: 'CNAME' as const, name: 'A.test', data: 'b.test.' },
    { type: 'CNAME' as const, name: 'c.test', data: 'a.test' },
  ];
  t.deepEqual(chainOf('a.test', answers), ['a.test', 'b.test', 'c.test']);
  t.true(
    needsFollowing({
      type: 'A',
      chain: ['x.test', 'y.test'],
      answers: [],
      rcode: 0,
    }),
  );
  t.false(
    needsFollowing({
      type: 'A',
      chain: ['x.test', 'y.test'],
      answers: [{ type: 'A', name: 'y.test', data: '1.2.3.4' }],
      rcode: 0,
    }),
  );
  t.false(
    needsFollowing({
      type: 'TXT',
      chain: ['x.test', 'y.test'],
      answers: [],
      rcode: 0,
    }),
  );
  t.false(
    needsFollowing({
      type: 'A',
      chain: ['x.test', 'y.test'],
      answers: [],
      rcode: 3,
    }),
  );
});

// x.test is left out on purpose: its only allowed port is denied, which
// nameMayBeAllowed (any port) still counts as allowed; see only.test above.
test('the index agrees with the policy matcher (nameMayBeAllowed)', (t) => {
  const list = rules(
    ['a.test', '*.b.test', '*.c.b.test', 'x.test:443', '*.p.test:80'],
    ['bad.b.test', '*.deep.b.test', 'x.test:443'],
  );
  const index = new NameRules(list);
  const names = [
    'a.test',
    'A.Test.',
    'b.test',
    'b.b.test',
    'z.c.b.test',
    'bad.b.test',
    'ok.bad.b.test',
    'deep.b.test',
    'q.deep.b.test',
    'y.p.test',
    'p.test',
    'a.test.evil',
    'evil-a.test',
  ];
  for (const name of names) {
    t.is(
      allowanceFor(index, name) !== undefined,
      nameMayBeAllowed(list, name),
      name,
    );
  }
});

// How long lookups take is the benchmark's to measure (npm run bench).
test('10,000 name rules: each lookup finds its own rule', (t) => {
  const many = rules(
    Array.from({ length: 10_000 }, (_, i) => `*.team${i}.example.test`),
  );
  const index = new NameRules(many);
  for (let i = 0; i < 1_000; i++)
    t.not(allowanceFor(index, `svc.team${i}.example.test`), undefined);
  t.is(allowanceFor(index, 'svc.team10000.example.test'), undefined);
  t.deepEqual(allowanceFor(index, 'api.team9999.example.test'), {
    ports: 'any',
    denyPorts: [],
  });
});
