import test from 'ava';
import { srtAuditRecorder } from '../../../src/engines/srt/audit.js';
import { srtSettings } from '../../../src/engines/srt/settings.js';
import { merged } from '../../policy/helpers.js';

/** A stand-in for SRT's violation store: keeps only its last 3 lines. */
function fakeStore() {
  let lines: { line: string }[] = [];
  let total = 0;
  const listeners = new Set<(v: { line: string }[]) => void>();
  return {
    getTotalCount: () => total,
    subscribe(l: (v: { line: string }[]) => void) {
      listeners.add(l);
      l(lines);
      return () => listeners.delete(l);
    },
    add(line: string) {
      lines = [...lines, { line }].slice(-3);
      total += 1;
      for (const l of listeners) l(lines);
    },
    listeners,
  };
}

test('the callback records and lets through; names are canonical; counts add up', async (t) => {
  const rec = srtAuditRecorder();
  t.false(
    await rec.ask({ host: 'selftest.invalid', port: 80 }),
    'enforces until started',
  );
  rec.start();
  t.true(await rec.ask({ host: 'Outside.Test.', port: 8080 }));
  t.true(await rec.ask({ host: 'outside.test', port: 8080 }));
  t.true(await rec.ask({ host: '[2001:DB8::1]', port: 443 }));
  t.deepEqual(rec.observations().letThrough, [
    { host: '2001:db8::1', port: 443, count: 1 },
    { host: 'outside.test', port: 8080, count: 2 },
  ]);
});

test('refusals are read from the store as they come, past its size limit', (t) => {
  const rec = srtAuditRecorder();
  const store = fakeStore();
  store.add('deny network-outbound before.test:80 (host is on the deny list)');
  const stop = rec.watch(store);
  for (let i = 0; i < 5; i += 1)
    store.add(
      `deny network-outbound d${i}.test:443 (host is on the deny list)`,
    );
  store.add('deny network-outbound d0.test:443 (host is on the deny list)');
  store.add('some other violation line');
  stop();
  store.add('deny network-outbound after.test:80 (host is on the deny list)');
  t.is(store.listeners.size, 0);
  const refused = rec.observations().refused;
  t.deepEqual(
    refused.map((r) => `${r.host}:${r.port}x${r.count}`),
    [
      'd0.test:443x2',
      'd1.test:443x1',
      'd2.test:443x1',
      'd3.test:443x1',
      'd4.test:443x1',
    ],
  );
  t.is(refused[0]!.reason, 'host is on the deny list');
});

test('audit turns off the strict allowlist and says so; deny entries stay', async (t) => {
  const policy = await merged({ allow: ['a.test'], deny: ['b.test'] });
  const enforced = srtSettings(policy, []);
  t.true(enforced.settings.network.strictAllowlist);
  const audit = srtSettings(policy, [], {}, { audit: true });
  t.false(audit.settings.network.strictAllowlist);
  t.deepEqual(audit.settings.network.deniedDomains, ['b.test']);
  t.regex(audit.warnings[0]!, /^AUDIT MODE/);
});
