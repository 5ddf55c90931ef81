import test from 'ava';
import { staticEntries, withoutCovered } from '../../src/firewall/spec.js';
import { parseNetworkEntry } from '../../src/policy/entries.js';

const source = { kind: 'config' as const, origin: 'test' };

test('entries covered by a broader one with the same port are dropped', (t) => {
  const kept = withoutCovered([
    { family: 4, cidr: '198.18.0.5' },
    { family: 4, cidr: '198.18.0.0/24' },
    { family: 4, cidr: '198.18.0.0/24' },
    { family: 4, cidr: '198.18.0.7', port: 443 },
    { family: 4, cidr: '198.18.1.0/25' },
    { family: 6, cidr: '2001:db8::1' },
    { family: 6, cidr: '2001:db8::/64' },
  ]);
  t.deepEqual(kept, [
    { family: 4, cidr: '198.18.0.0/24' },
    { family: 4, cidr: '198.18.1.0/25' },
    { family: 4, cidr: '198.18.0.7', port: 443 },
    { family: 6, cidr: '2001:db8::/64' },
  ]);
});

test('name rules do not become static entries', (t) => {
  const rules = (list: string[], purpose: 'allow' | 'deny') =>
    list.map((e) => parseNetworkEntry(e, 'test', source, purpose));
  const { allow, deny } = staticEntries({
    allow: rules(
      ['gitlab.test', '198.18.0.0/24', '[2001:db8::1]:443'],
      'allow',
    ),
    deny: rules(['198.18.0.66:22'], 'deny'),
  });
  t.deepEqual(allow, [
    { family: 4, cidr: '198.18.0.0/24' },
    { family: 6, cidr: '2001:db8::1', port: 443 },
  ]);
  t.deepEqual(deny, [{ family: 4, cidr: '198.18.0.66', port: 22 }]);
});

// Speed is the benchmark's to measure (npm run bench), not a test's.
test('10,000 distinct entries are all kept, their repeats dropped', (t) => {
  const entries = Array.from({ length: 10_000 }, (_, i) => ({
    family: 4 as const,
    cidr: `198.${18 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}`,
  }));
  const kept = withoutCovered([...entries, ...entries.slice(0, 500)]);
  t.is(kept.length, 10_000);
  t.is(new Set(kept.map((e) => e.cidr)).size, 10_000);
});

test('single addresses are only deduplicated; blocks lose covered blocks', (t) => {
  const rules = (list: string[]) =>
    list.map((e) => parseNetworkEntry(e, 'test', source, 'allow'));
  const { allow } = staticEntries({
    allow: rules([
      '198.18.0.5',
      '198.18.0.5',
      '198.18.0.0/24',
      '198.18.0.0/25',
      '198.18.0.5:443',
    ]),
    deny: [],
  });
  t.deepEqual(allow, [
    { family: 4, cidr: '198.18.0.0/24' },
    { family: 4, cidr: '198.18.0.5' },
    { family: 4, cidr: '198.18.0.5', port: 443 },
  ]);
});

test('the entries of one policy are worked out once, however often it is planned', (t) => {
  const rules = (list: string[]) =>
    list.map((e) => parseNetworkEntry(e, 'test', source, 'allow'));
  const policy = { allow: rules(['198.18.0.5', '198.18.0.0/24']), deny: [] };
  const first = staticEntries(policy);
  t.is(staticEntries(policy), first);
  const other = staticEntries({ ...policy, allow: rules(['198.18.0.6']) });
  t.deepEqual(other.allow, [{ family: 4, cidr: '198.18.0.6' }]);
});
