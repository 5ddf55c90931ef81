import test from 'ava';
import { parseProcNetUnix } from '../../src/mounts/unix-sockets.js';

test('bound socket paths from /proc/net/unix, abstract and unnamed ones left out', (t) => {
  const text = [
    'Num       RefCount Protocol Flags    Type St Inode Path',
    '0000000000000000: 00000002 00000000 00010000 0001 01 1939147 /var/run/docker.sock',
    '0000000000000000: 00000003 00000000 00000000 0001 03 1939150 /var/run/docker.sock',
    '0000000000000000: 00000002 00000000 00010000 0001 01 1939170 @fsbxt-abstract',
    '0000000000000000: 00000003 00000000 00000000 0001 03  1580',
    '0000000000000000: 00000002 00000000 00010000 0001 01 2000000 /var/tmp/service.sock',
  ].join('\n');
  t.deepEqual(parseProcNetUnix(text), [
    '/var/run/docker.sock',
    '/var/tmp/service.sock',
  ]);
});
