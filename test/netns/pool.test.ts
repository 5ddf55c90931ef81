import test from 'ava';
import fc from 'fast-check';
import ipaddr from 'ipaddr.js';
import { kernelNames, shortId } from '../../src/netns/names.js';
import {
  DEFAULT_POOL,
  poolSize,
  slotCollides,
  slotSubnet,
} from '../../src/netns/pool.js';

test('slot 0 and 1 are consecutive /30s and /64s of the pool', (t) => {
  t.deepEqual(slotSubnet(0), {
    slot: 0,
    v4: {
      subnet: '10.217.0.0/30',
      host: '10.217.0.1',
      sandbox: '10.217.0.2',
      prefix: 30,
    },
    v6: {
      subnet: 'fd5b:f5b0:8f2a::/64',
      host: 'fd5b:f5b0:8f2a::1',
      sandbox: 'fd5b:f5b0:8f2a::2',
      prefix: 64,
    },
  });
  t.is(slotSubnet(1).v4.subnet, '10.217.0.4/30');
  t.is(slotSubnet(1).v6.host, 'fd5b:f5b0:8f2a:1::1');
  t.is(poolSize(), 16384);
  t.is(slotSubnet(16383).v4.sandbox, '10.217.255.254');
});

test('slots outside the pool are refused', (t) => {
  t.throws(() => slotSubnet(16384), { message: /kernel pool slot/ });
  t.throws(() => slotSubnet(-1));
  t.throws(() => slotSubnet(0, { ...DEFAULT_POOL, v6: 'fd00::/56' }), {
    message: /kernel pool v6/,
  });
});

test('two different slots never share an address (property)', (t) => {
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: 16383 }),
      fc.integer({ min: 0, max: 16383 }),
      (a, b) => {
        fc.pre(a !== b);
        const [x, y] = [slotSubnet(a), slotSubnet(b)];
        const [netX, bitsX] = ipaddr.parseCIDR(x.v4.subnet);
        const [netY] = ipaddr.parseCIDR(y.v4.subnet);
        return !netX.match(netY, bitsX) && x.v6.subnet !== y.v6.subnet;
      },
    ),
    { seed: 42, numRuns: 500 },
  );
  t.pass();
});

test('a slot collides with narrower or equal routes, not with broad ones', (t) => {
  const subnet = slotSubnet(3);
  t.true(slotCollides(subnet, [{ family: 4, cidr: '10.217.0.12/30' }]));
  t.true(slotCollides(subnet, [{ family: 4, cidr: '10.217.0.13/32' }]));
  t.true(slotCollides(subnet, [{ family: 4, cidr: '10.217.0.0/24' }]));
  t.false(slotCollides(subnet, [{ family: 4, cidr: '10.0.0.0/8' }]));
  t.false(slotCollides(subnet, [{ family: 4, cidr: '0.0.0.0/0' }]));
  t.false(slotCollides(subnet, [{ family: 4, cidr: '10.217.0.16/30' }]));
  t.true(slotCollides(subnet, [{ family: 6, cidr: 'fd5b:f5b0:8f2a:3::/64' }]));
  t.false(slotCollides(subnet, [{ family: 6, cidr: 'fd00::/8' }]));
});

test('object names fit the kernel limits and start with fsbx', (t) => {
  for (const runId of [
    'a1b2c3d4',
    'x',
    'A-Very-Long-Run-Id-With-Dashes-1234567890',
  ]) {
    const names = kernelNames(runId);
    t.regex(names.netns, /^fsbx[a-z0-9]{1,10}$/);
    t.true(names.hostIf.length <= 15 && names.sandboxIf.length <= 15);
    t.not(names.hostIf, names.sandboxIf);
  }
  t.is(shortId('a1b2c3d4'), 'a1b2c3d4');
  t.is(shortId('Run_1').length, 10);
  t.not(shortId('run-1'), shortId('run-2'));
});
