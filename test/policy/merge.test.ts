import test from 'ava';
import { judge } from '../../src/policy/match.js';
import { allowed, merged, refusedRaw } from './helpers.js';

const STRICT = `mode: strict
allowed_domains: ["example.com", "*.corp.test", "registry.test:443", "198.18.0.0/24"]
denied_domains: ["secret.corp.test"]
`;
const FLEXIBLE = `mode: flexible
denied_domains: ["evil.test", "*.tracker.test", "mail.test:25", "198.18.9.0/24"]
`;
const policyOf = (allowedDomains: string[], extra = '') =>
  `network_policy:\n  allowed_domains: ${JSON.stringify(allowedDomains)}\n${extra}`;

test('without an operator policy, project and flag entries are all accepted', async (t) => {
  const p = await merged({ project: policyOf(['a.test']), allow: ['b.test'] });
  t.deepEqual(refusedRaw(p), []);
  t.true(allowed(p).includes('a.test<-project'));
  t.true(allowed(p).includes('b.test<-flag'));
});

const strictCases: [string, boolean][] = [
  // [project entry, accepted under STRICT]
  ['example.com', true],
  ['example.com:443', true], // a port narrows
  ['api.example.com', false], // exact operator entry covers only itself
  ['*.example.com', false], // the reverse wildcard case from the brief
  ['api.corp.test', true], // under operator *.corp.test
  ['*.api.corp.test', true],
  ['corp.test', false], // *.x never covers x
  ['registry.test:443', true],
  ['registry.test', false], // operator pins a port; every port is wider
  ['registry.test:80', false],
  ['198.18.0.7', true],
  ['198.18.0.0/23', false],
  ['gitlab.test', true], // the default instance host is already allowed
  ['api.gitlab.test', true],
  ['outside.test', false],
];

for (const [entry, ok] of strictCases) {
  test(`strict: project entry ${entry} is ${ok ? 'accepted' : 'refused'}`, async (t) => {
    const p = await merged({ operator: STRICT, project: policyOf([entry]) });
    t.is(refusedRaw(p).includes(entry), !ok);
    if (!ok) t.regex(p.refused[0]!.reason, /strict operator policy/);
  });
}

test('strict: an entry covered by the operator but overlapping its denial is refused', async (t) => {
  const p = await merged({
    operator: STRICT,
    project: policyOf(['*.corp.test']),
  });
  t.deepEqual(refusedRaw(p), ['*.corp.test']);
  t.regex(p.refused[0]!.reason, /operator's denied entry secret\.corp\.test/);
});

const flexibleCases: [string, boolean][] = [
  ['anything.test', true],
  ['evil.test', false],
  ['evil.test:443', false],
  ['api.evil.test', true], // the operator denied evil.test only, not below it
  ['x.tracker.test', false],
  ['*.tracker.test', false],
  ['*.x.tracker.test', false],
  ['tracker.test', true], // *.tracker.test does not cover tracker.test
  ['mail.test:25', false],
  ['mail.test', false], // every port includes 25
  ['mail.test:587', true],
  ['198.18.9.5', false],
  ['198.18.0.0/16', false], // a wider block overlaps the denied one
  ['198.18.10.1', true],
];

for (const [entry, ok] of flexibleCases) {
  test(`flexible: project entry ${entry} is ${ok ? 'accepted' : 'refused'}`, async (t) => {
    const p = await merged({ operator: FLEXIBLE, project: policyOf([entry]) });
    t.is(refusedRaw(p).includes(entry), !ok);
    if (!ok) t.regex(p.refused[0]!.reason, /operator denials always win/);
  });
}

test('operator denials win over flags and config, in both modes', async (t) => {
  const p = await merged({
    operator: FLEXIBLE,
    allow: ['evil.test', 'ok.test'],
  });
  t.deepEqual(refusedRaw(p), ['evil.test']);
  t.is(p.refused[0]!.source.kind, 'flag');
  t.true(allowed(p).includes('ok.test<-flag'));
  const s = await merged({
    operator: STRICT,
    allow: ['outside.test', 'example.com'],
  });
  t.deepEqual(refusedRaw(s), ['outside.test']);
});

test('operator denials win over the defaults at run time', async (t) => {
  const p = await merged({
    operator: 'denied_domains: ["secret.gitlab.test"]',
  });
  t.false(judge(p.network, { host: 'secret.gitlab.test', port: 443 }).allowed);
  t.true(judge(p.network, { host: 'api.gitlab.test', port: 443 }).allowed);
  t.is(p.network.deny[0]!.source.kind, 'operator');
});

test('project denials are always accepted: they only narrow', async (t) => {
  const p = await merged({
    operator: STRICT,
    project:
      'network_policy:\n  denied_domains: ["example.com", "anything.test"]\n',
  });
  t.deepEqual(refusedRaw(p), []);
  t.false(judge(p.network, { host: 'example.com', port: 443 }).allowed);
  t.deepEqual(
    p.network.deny.map((r) => r.source.kind),
    ['operator', 'project', 'project'],
  );
});

test('an entry in both operator and project keeps the stronger source', async (t) => {
  const p = await merged({
    operator: STRICT,
    project: policyOf(['example.com']),
  });
  t.true(allowed(p).includes('example.com<-operator'));
  t.false(allowed(p).includes('example.com<-project'));
});

test('operator allowed_domains are granted to every job', async (t) => {
  const p = await merged({ operator: STRICT });
  t.true(judge(p.network, { host: 'x.corp.test', port: 443 }).allowed);
  t.false(judge(p.network, { host: 'secret.corp.test', port: 443 }).allowed);
});

test('project origins name the file, the commit and the field', async (t) => {
  const p = await merged({ project: policyOf(['a.test', 'b.test']) });
  const rule = p.network.allow.find((r) => r.raw === 'b.test')!;
  t.is(
    rule.source.origin,
    '.gitlab/duo/agent-config.yml@aaaaaaaaaaaa (origin/main): network_policy.allowed_domains[1]',
  );
});
