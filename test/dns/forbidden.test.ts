import test from 'ava';
import { forbiddenAddresses } from '../../src/dns/forbidden.js';

test('no name opens the runner, local-only classes, the run pool or the stand-in blocks', (t) => {
  const forbidden = forbiddenAddresses(
    () => ['192.0.2.7', 'fe80::1%eth0'],
    [
      '10.217.0.0/16',
      'fd5b:f5b0:8f2a::/48',
      '10.218.0.0/16',
      'fd5b:f5b0:8f2b::/64',
    ],
  );
  for (const address of [
    '192.0.2.7', // the runner's own
    '127.0.0.1',
    '::1',
    '169.254.169.254',
    '224.0.0.1',
    '0.0.0.0',
    // Another run's runner-side address, before or after that run started.
    '10.217.238.81',
    'fd5b:f5b0:8f2a:1591::1',
    '10.218.0.1',
    'fd5b:f5b0:8f2b::1',
    '::ffff:10.217.0.1',
    'not an address',
  ])
    t.true(forbidden(address), address);
  for (const address of ['198.18.0.10', '10.219.0.1', '2001:db8::1'])
    t.false(forbidden(address), address);
});
