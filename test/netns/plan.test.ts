import test from 'ava';
import { kernelNames } from '../../src/netns/names.js';
import { planNetns } from '../../src/netns/plan.js';
import { slotSubnet } from '../../src/netns/pool.js';

const names = kernelNames('a1b2c3d4');

test('the host batch makes the namespace, the pair and the host end', (t) => {
  const plan = planNetns({ names, subnet: slotSubnet(2), ipv6: true });
  t.is(
    plan.hostBatch,
    [
      'netns add fsbxa1b2c3d4',
      'link add fsbxa1b2c3d4h type veth peer name fsbxa1b2c3d4s netns fsbxa1b2c3d4',
      'addr add 10.217.0.9/30 dev fsbxa1b2c3d4h',
      'addr add fd5b:f5b0:8f2a:2::1/64 dev fsbxa1b2c3d4h nodad',
      'link set fsbxa1b2c3d4h up',
      '',
    ].join('\n'),
  );
  t.true(plan.sandboxBatch.includes('route add default via 10.217.0.9\n'));
  t.true(
    plan.sandboxBatch.includes('route add default via fd5b:f5b0:8f2a:2::1\n'),
  );
  t.is(plan.teardownBatch, 'link del fsbxa1b2c3d4h\nnetns del fsbxa1b2c3d4\n');
});

test('without IPv6 filtering, neither end gets any IPv6 address', (t) => {
  const plan = planNetns({ names, subnet: slotSubnet(2), ipv6: false });
  t.false(
    /fd5b|route add default via .*:/.test(plan.hostBatch + plan.sandboxBatch),
  );
  t.true(
    plan.sandboxBatch.includes('link set dev fsbxa1b2c3d4s addrgenmode none\n'),
  );
  t.true(
    plan.hostBatch.includes('link set dev fsbxa1b2c3d4h addrgenmode none\n'),
  );
  // addrgenmode must come before the link goes up, or a link-local address appears.
  t.true(
    plan.sandboxBatch.indexOf('addrgenmode') <
      plan.sandboxBatch.indexOf('link set fsbxa1b2c3d4s up'),
  );
});
