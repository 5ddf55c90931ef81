import test from 'ava';
import { parseNetworkEntry } from '../../src/policy/entries.js';
import { judge, nameMayBeAllowed } from '../../src/policy/match.js';

const source = { kind: 'config' as const, origin: 'test' };
const rules = (list: string[]) =>
  list.map((r) => parseNetworkEntry(r, 'test', source));

const policy = {
  allow: rules([
    'gitlab.test',
    '*.gitlab.test',
    'api.example.com:443',
    '198.18.0.0/24',
    '2001:db8::1',
  ]),
  deny: rules(['secret.gitlab.test', '198.18.0.99']),
};

const cases: Array<[string, number | undefined, boolean]> = [
  ['gitlab.test', 80, true],
  ['GITLAB.TEST.', 80, true],
  ['api.gitlab.test', 443, true],
  ['a.b.c.gitlab.test', 22, true],
  ['evilgitlab.test', 80, false],
  ['gitlab.test.evil.test', 80, false],
  ['secret.gitlab.test', 443, false],
  ['api.example.com', 443, true],
  ['api.example.com', 80, false],
  ['example.com', 443, false],
  ['198.18.0.5', 80, true],
  ['198.18.0.99', 80, false],
  ['198.18.1.5', 80, false],
  ['[2001:db8::1]', 80, true],
  ['2001:db8::2', 80, false],
  ['::ffff:198.18.0.5', 80, true],
];

for (const [host, port, allowed] of cases) {
  test(`${host}:${port} is ${allowed ? 'allowed' : 'refused'}`, (t) => {
    t.is(judge(policy, { host, port }).allowed, allowed);
  });
}

test('deny wins and names the deciding rule', (t) => {
  const verdict = judge(policy, { host: 'secret.gitlab.test', port: 443 });
  t.false(verdict.allowed);
  t.is(verdict.rule?.raw, 'secret.gitlab.test');
});

test('a name rule never covers an IP literal', (t) => {
  t.false(
    judge({ allow: rules(['localhost']), deny: [] }, { host: '127.0.0.1' })
      .allowed,
  );
});

test('nameMayBeAllowed ignores ports on allow rules and honours whole-name denials', (t) => {
  t.true(nameMayBeAllowed(policy, 'api.example.com'));
  t.false(nameMayBeAllowed(policy, 'secret.gitlab.test'));
  t.false(nameMayBeAllowed(policy, 'outside.test'));
});
