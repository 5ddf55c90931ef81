// What root inside the kernel engine's sandbox cannot do: see secrets,
// write outside the allowed paths, undo a mount, touch the firewall or
// load a module. Run for both firewall backends.
import test from 'ava';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { checkScript, parseChecks } from './kernel/probe-script.js';
import { kernelSkipReason } from './kernel/skip.js';
import { HOSTS, Testbed } from './kernel/testbed.js';

const testbed = new Testbed();
const anySkip = kernelSkipReason();

if (!anySkip) {
  test.before(async () => testbed.start());
  test.after.always(async () => testbed.stop());
}

// init_module(2) by number (x86_64: 175, arm64: 105). EPERM (1): the
// capability check refused it. A kernel built without modules says ENOSYS
// (38) to everyone; then the empty bounding set (noCaps) is the proof.
const INIT_MODULE = process.arch === 'arm64' ? 105 : 175;
const MODULE_CHECK = `e=$(perl -e 'my $image = "x"; syscall(${INIT_MODULE}, 0, 0, $image); print $!+0'); test "$e" = 1 || test "$e" = 38`;

for (const firewall of ['nft', 'iptables'] as const) {
  const skip = kernelSkipReason(firewall);
  const it = skip ? test.serial.skip : test.serial;

  it(`${firewall}: root in the sandbox cannot read ~/.ssh, remount, touch the firewall or load a module${skip ? ` (skipped: ${skip})` : ''}`, async (t) => {
    const config = testbed.runConfig({ firewall, argv: ['sh', '-c', 'true'] });
    const state = path.dirname(config.stateDir);
    const script = checkScript([
      ['sshEmpty', 'test -d ~/.ssh && test -z "$(ls -A ~/.ssh)"'],
      ['sshKey', 'cat ~/.ssh/id_test'],
      ['sshWrite', 'touch ~/.ssh/x'],
      ['remountSsh', 'mount -o remount,rw ~/.ssh'],
      ['umountSsh', 'umount ~/.ssh'],
      ['remountRoot', 'mount -o remount,rw /'],
      ['newMount', 'mount -t tmpfs none /mnt'],
      ['writeRoot', 'touch /etc/fsbx-test'],
      ['writeCwd', 'touch ./written && rm ./written'],
      [
        'writeTmp',
        `touch /tmp/fsbx-written-${firewall} && rm /tmp/fsbx-written-${firewall}`,
      ],
      ['stateHidden', `test -z "$(ls -A ${state})"`],
      ['resolver', 'grep -q "^nameserver 10\\.217\\." /etc/resolv.conf'],
      ['ownPids', 'test "$(ls /proc | grep -c "^[0-9]")" -lt 10'],
      [
        'noCaps',
        'grep -q "^CapEff:.0000000000000000" /proc/self/status && grep -q "^CapBnd:.0000000000000000" /proc/self/status',
      ],
      ['noNewPrivs', 'grep -q "^NoNewPrivs:.1" /proc/self/status'],
      [
        'noBlockDevices',
        'test -z "$(find /dev -type b)" && test ! -e /dev/kmsg && test ! -e /dev/loop0',
      ],
      [
        'devNull',
        'echo x > /dev/null && head -c 8 /dev/urandom | wc -c | grep -q 8',
      ],
      ['pty', 'test -c /dev/ptmx && test -d /dev/pts'],
      [
        'signalsNotIgnored',
        'grep -q "^SigIgn:.0000000000000000" /proc/self/status',
      ],
      ['nftFlush', '/usr/sbin/nft flush ruleset'],
      ['iptablesFlush', '/usr/sbin/iptables -F'],
      ['linkDown', 'ip link set lo down'],
      ['addAddress', `ip addr add ${HOSTS.outside}/32 dev lo`],
      ['sysctl', 'echo 1 > /proc/sys/net/ipv4/ip_forward'],
      ['module', MODULE_CHECK],
      ['stillBlocked', `curl -sS -m 3 http://${HOSTS.outside}/`],
      ['stillAllowed', 'curl -sSf -m 3 http://gitlab.test/'],
    ]);
    const result = await testbed.launch({
      ...config,
      argv: ['sh', '-c', script],
    });
    const r = parseChecks(result.stdout);
    const ok = (name: string) =>
      t.true(
        r[name]?.ok,
        `${name}: ${JSON.stringify(r[name])} in ${result.stdout}`,
      );
    const fails = (name: string) =>
      t.false(r[name]?.ok ?? true, `${name} should have failed`);
    t.is(result.exitCode, 0, result.stderr);
    ok('sshEmpty');
    ok('stateHidden');
    ok('resolver');
    ok('ownPids');
    ok('noCaps');
    ok('noNewPrivs');
    ok('signalsNotIgnored');
    ok('noBlockDevices');
    ok('devNull');
    ok('pty');
    ok('writeCwd');
    ok('writeTmp');
    ok('module');
    ok('stillAllowed');
    for (const name of [
      'sshKey',
      'sshWrite',
      'remountSsh',
      'umountSsh',
      'remountRoot',
      'newMount',
      'writeRoot',
      'nftFlush',
      'iptablesFlush',
      'linkDown',
      'addAddress',
      'sysctl',
      'stillBlocked',
    ]) {
      fails(name);
    }
  });
}

if (anySkip)
  test.skip(`kernel engine isolation tests (skipped: ${anySkip})`, () => {});

// Unix sockets: the allowed one stays reachable; a daemon socket under /run
// and an agent socket in /tmp are hidden.
async function socketServer(file: string): Promise<http.Server> {
  mkdirSync(path.dirname(file), { recursive: true });
  const server = http.createServer((_req, res) => res.end('socket answered\n'));
  await new Promise<void>((resolve) => server.listen(file, resolve));
  return server;
}

const socketSkip = kernelSkipReason('nft');
(socketSkip ? test.serial.skip : test.serial)(
  `only allowed Unix sockets are reachable${socketSkip ? ` (skipped: ${socketSkip})` : ''}`,
  async (t) => {
    const runDir = `/run/fsbxt-${testbed.id}`;
    const files = {
      allowed: `${runDir}/allowed.sock`,
      daemon: `${runDir}/daemon.sock`,
      agent: `/tmp/fsbxt-${testbed.id}-agent/agent.sock`,
    };
    const servers = await Promise.all(Object.values(files).map(socketServer));
    try {
      const configFile = path.join(testbed.dir, 'sockets.yml');
      writeFileSync(
        configFile,
        `network:\n  unix_sockets: [${files.allowed}]\n`,
      );
      const curl = (file: string) =>
        `curl -sSf -m 3 --unix-socket ${file} http://sandbox/`;
      const script = checkScript([
        ['allowed', curl(files.allowed)],
        ['daemon', curl(files.daemon)],
        ['agent', curl(files.agent)],
      ]);
      const config = testbed.runConfig({
        firewall: 'nft',
        argv: ['sh', '-c', script],
        configFile,
      });
      const result = await testbed.launch(config);
      const r = parseChecks(result.stdout);
      t.true(r.allowed?.ok, `${JSON.stringify(r)} ${result.stderr}`);
      t.false(r.daemon?.ok ?? true);
      t.false(r.agent?.ok ?? true);
    } finally {
      servers.forEach((s) => s.close());
      rmSync(runDir, { recursive: true, force: true });
      rmSync(path.dirname(files.agent), { recursive: true, force: true });
    }
  },
);
