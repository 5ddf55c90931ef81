import test from 'ava';
import { parseProcIpv6Route, parseProcRoute } from '../../src/netns/routes.js';

test('/proc/net/route becomes CIDRs', (t) => {
  const text = [
    'Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT',
    'eth0\t00000000\t010200C0\t0003\t0\t0\t0\t00000000\t0\t0\t0',
    'eth0\t000200C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0',
    'fsbx1h\t0000D90A\t00000000\t0001\t0\t0\t0\tFCFFFFFF\t0\t0\t0',
  ].join('\n');
  t.deepEqual(parseProcRoute(text), [
    { family: 4, cidr: '0.0.0.0/0' },
    { family: 4, cidr: '192.0.2.0/24' },
    { family: 4, cidr: '10.217.0.0/30' },
  ]);
});

test('/proc/net/ipv6_route becomes CIDRs', (t) => {
  const text =
    'fd5bf5b08f2a00030000000000000000 40 00000000000000000000000000000000 00 00000000000000000000000000000000 00000100 00000001 00000000 00000001 fsbx1h\n';
  const [route] = parseProcIpv6Route(text);
  t.is(route!.family, 6);
  t.is(route!.cidr, 'fd5b:f5b0:8f2a:0003:0000:0000:0000:0000/64');
});
