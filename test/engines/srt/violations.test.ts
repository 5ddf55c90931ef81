import test from 'ava';
import { blockedFromViolations } from '../../../src/engines/srt/violations.js';

test('SRT denials become counted destinations; other lines are ignored', (t) => {
  const report = blockedFromViolations([
    'deny network-outbound outside.test:443 (host is not on the allow list)',
    'deny network-outbound outside.test:443 (host is not on the allow list)',
    'deny network-outbound [2001:db8::20]:80 (host is not on the allow list)',
    'deny http-request GET http://outside.test/ (blocked)',
  ]);
  t.deepEqual(report.destinations, [
    {
      host: 'outside.test',
      port: 443,
      protocol: 'tcp',
      count: 2,
      reason: 'host is not on the allow list',
    },
    {
      host: '[2001:db8::20]',
      port: 80,
      protocol: 'tcp',
      count: 1,
      reason: 'host is not on the allow list',
    },
  ]);
  t.true(
    report.visibility.some((v) => /does not report refused writes/.test(v)),
  );
});
