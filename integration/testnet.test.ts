// The test network itself: what every engine's integration test relies on.
// Root only: skipped with the reason elsewhere.
import test from 'ava';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { secretFor } from '../scripts/testnet/files.js';
import { allNamespaces } from '../scripts/testnet/netns.js';
import { processesInNetns } from '../scripts/testnet/snapshot.js';
import { Testnet } from '../scripts/testnet/testnet.js';
import { rootSkipReason } from './skip.js';

const skip = rootSkipReason(['node', 'getent']);

const PY_DNS = `
import socket, struct, sys
def q(name, qtype):
    h = struct.pack(">HHHHHH", 7, 0x0100, 1, 0, 0, 0)
    n = b"".join(bytes([len(p)]) + p.encode() for p in name.split(".")) + b"\\0"
    return h + n + struct.pack(">HH", qtype, 1)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(2)
for name, qtype in [("gitlab.test", 1), ("gitlab.test", 28), ("nope.test", 1)]:
    s.sendto(q(name, qtype), ("198.18.0.53", 53)); r = s.recvfrom(512)[0]
    print(name, qtype, "rcode", r[3] & 15, "answers", r[7])
t = socket.create_connection(("198.18.0.53", 53), 2); m = q("api.gitlab.test", 1)
t.sendall(struct.pack(">H", len(m)) + m); r = t.recv(512)[2:]
print("tcp api.gitlab.test rcode", r[3] & 15, "answers", r[7])
`;

if (skip) {
  test.skip(`test network (${skip})`, () => {});
} else {
  test.serial(
    'the test network answers as designed and is removed completely',
    async (t) => {
      const net = await Testnet.create();
      t.teardown(() => net.destroy().then(() => undefined));

      const routes = await net.exec(['ip', 'route']);
      t.notRegex(routes.stdout, /default/, 'the runner has no default route');
      const view = await net.exec([
        'sh',
        '-c',
        'cat /etc/resolv.conf /etc/hosts; echo "HOME=$HOME"; pwd',
      ]);
      t.regex(view.stdout, /nameserver 198\.18\.0\.53/);
      t.regex(view.stdout, /198\.18\.0\.30 host\.docker\.internal/);
      t.regex(view.stdout, new RegExp(`HOME=${net.paths.home}`));
      t.regex(view.stdout, new RegExp(`^${net.paths.work}$`, 'm'));
      t.regex(
        await readFile(`${net.paths.home}/.ssh/id_rsa`, 'utf8'),
        new RegExp(secretFor(net.id)),
      );

      const dns = await net.exec(['python3', '-c', PY_DNS]);
      t.is(
        dns.stdout,
        'gitlab.test 1 rcode 0 answers 1\ngitlab.test 28 rcode 0 answers 1\nnope.test 1 rcode 3 answers 0\ntcp api.gitlab.test rcode 0 answers 1\n',
        dns.stderr,
      );
      const names = await net.exec([
        'sh',
        '-c',
        'getent hosts cname.gitlab.test; getent ahostsv4 rotate.gitlab.test | head -1; getent ahostsv4 rotate.gitlab.test | head -1',
      ]);
      t.regex(
        names.stdout,
        /2001:db8:18::10\s+gitlab\.test cname\.gitlab\.test/,
      );
      t.regex(
        names.stdout,
        /198\.18\.0\.10 .*\n198\.18\.0\.11 |198\.18\.0\.11 .*\n198\.18\.0\.10 /,
        'rotate alternates',
      );

      const bodies = await net.exec([
        'sh',
        '-c',
        'for h in gitlab.test outside.test 169.254.169.254 host.docker.internal "[2001:db8:18::20]"; do curl -s --max-time 5 "http://$h/" | head -1; done',
      ]);
      t.is(
        bodies.stdout,
        'fsbxt-host=gitlab\nfsbxt-host=outside\nfsbxt-host=metadata\nfsbxt-host=docker\nfsbxt-host=outside\n',
      );
      const big = await net.exec([
        'sh',
        '-c',
        'curl -s --max-time 10 "http://gitlab.test/big.bin?mib=3" | wc -c',
      ]);
      t.is(big.stdout.trim(), String(3 * 1024 * 1024));
      const clone = await net.exec([
        'sh',
        '-c',
        'git clone -q http://gitlab.test/project.git /tmp/p && cat /tmp/p/README',
      ]);
      t.is(clone.stdout, 'fsbxt-repo=gitlab\n', clone.stderr);
      t.true(
        (await net.dnsQueries()).includes('outside.test'),
        'the DNS log records queries',
      );

      t.deepEqual(await net.destroy(), []);
      t.deepEqual(await net.destroy(), [], 'destroy is safe to repeat');
      const left = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' });
      t.false(left.includes(`fsbxt${net.id}`), left);
      t.false(existsSync(net.paths.base));
    },
  );

  test.serial(
    'a failed create removes what it made and nothing else',
    async (t) => {
      const id = randomBytes(2).toString('hex');
      // A clashing namespace makes create fail half-way; it is ours to remove.
      const clash = `fsbxt${id}-out`;
      execFileSync('ip', ['netns', 'add', clash]);
      t.teardown(() => execFileSync('ip', ['netns', 'del', clash]));

      await t.throwsAsync(Testnet.create({ id }), {
        message: /netns add fsbxt.*-out/,
      });
      const left = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' });
      const ours = allNamespaces(Testnet.attach(id).names).filter((n) =>
        left.includes(n),
      );
      t.deepEqual(ours, [clash], 'only the clashing namespace remains');
      t.false(existsSync(`/var/tmp/fsbxt${id}`));
      t.deepEqual(await processesInNetns(clash), []);
    },
  );
}
