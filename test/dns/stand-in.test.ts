import test from 'ava';
import { StandIns, standInBlocks } from '../../src/dns/stand-in.js';

test('one stand-in per real address and allowance, kept while in use', (t) => {
  const s = new StandIns();
  t.is(s.take(4, '198.18.0.10', 'any/', 60), '10.218.0.1');
  t.is(s.take(4, '198.18.0.11', 'any/', 60), '10.218.0.2');
  t.is(s.take(4, '198.18.0.10', 'any/', 60), '10.218.0.1');
  t.is(s.take(4, '198.18.0.10', '443/', 60), '10.218.0.3');
  t.is(s.take(6, '2001:db8::1', 'any/', 60), 'fd5b:f5b0:8f2b::1');
});

test('a full block reuses only stand-ins whose grants lapsed (with slack)', (t) => {
  let now = 0;
  const s = new StandIns({ v4: '10.9.9.0/30', v6: 'fd00::/112' }, () => now);
  t.is(s.take(4, '198.18.0.1', 'any/', 10), '10.9.9.1');
  t.is(s.take(4, '198.18.0.2', 'any/', 20), '10.9.9.2');
  t.is(s.take(4, '198.18.0.3', 'any/', 10), undefined, 'none free');
  now = 12_000;
  t.is(
    s.take(4, '198.18.0.3', 'any/', 10),
    undefined,
    'lapsed, within the slack',
  );
  now = 16_000;
  t.is(s.take(4, '198.18.0.3', 'any/', 10), '10.9.9.1');
  // The old holder asks again: it gets another (here: none left).
  t.is(s.take(4, '198.18.0.1', 'any/', 10), undefined);
});

test('blocks are checked: family and size, naming the field', (t) => {
  t.notThrows(() => standInBlocks({ v4: '10.218.0.0/16', v6: 'fd00::/64' }));
  for (const bad of [
    { v4: 'fd00::/64', v6: 'fd00::/64' },
    { v4: '10.0.0.0/31', v6: 'fd00::/64' },
    { v4: '10.0.0.0/16', v6: 'fd00::/40' },
    { v4: 'ten', v6: 'fd00::/64' },
  ]) {
    const error = t.throws(() => standInBlocks(bad));
    t.regex(
      error!.message,
      /^stand-in v[46]: .* is not accepted; expected an IPv4 CIDR/,
    );
  }
});
