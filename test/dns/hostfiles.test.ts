import test from 'ava';
import {
  parseHosts,
  parseResolvConf,
  renderSandboxResolvConf,
} from '../../src/dns/hostfiles.js';

test('resolv.conf: nameservers in order, search list and options kept', (t) => {
  const conf = parseResolvConf(
    '# comment\nnameserver 10.0.0.2\nnameserver fe80::1%eth0\nnameserver bogus\nsearch a.test b.test\noptions ndots:2 edns0\n',
  );
  t.deepEqual(conf, {
    nameservers: ['10.0.0.2', 'fe80::1'],
    search: ['a.test', 'b.test'],
    options: ['ndots:2', 'edns0'],
  });
  t.is(
    renderSandboxResolvConf('10.217.0.1', conf),
    '# flow-sandbox: the only DNS server this sandbox can reach\nnameserver 10.217.0.1\nsearch a.test b.test\noptions ndots:2 edns0\n',
  );
});

test('hosts: canonical names, both families, odd lines skipped', (t) => {
  const hosts = parseHosts(
    '127.0.0.1 localhost\n::1 localhost ip6-localhost\n172.17.0.1\tHost.Docker.Internal. # docker\nnot-an-ip name\n::ffff:198.18.0.1 mapped.test\n',
  );
  t.deepEqual(hosts.get('localhost'), { 4: ['127.0.0.1'], 6: ['::1'] });
  t.deepEqual(hosts.get('host.docker.internal'), { 4: ['172.17.0.1'], 6: [] });
  t.deepEqual(hosts.get('mapped.test'), { 4: ['198.18.0.1'], 6: [] });
  t.false(hosts.has('name'));
});
