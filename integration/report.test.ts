// The self-test and the end-of-run report, on the private test network,
// for every engine this build has that can run here. Root only.
import test from 'ava';
import {
  lstat,
  mkdir,
  readFile,
  rm,
  symlink,
  writeFile,
} from 'node:fs/promises';
import path from 'node:path';
import { OUTSIDE4 } from '../scripts/testnet/topology.js';
import { useTestnet } from './fixture.js';
import { runSandboxed, FLOW_SANDBOX, jobEnv } from './sandbox-run.js';
import { kernelSkipReason } from './kernel/skip.js';
import { rootSkipReason } from './skip.js';

const skip = rootSkipReason(['bwrap', 'socat', 'rg', 'node']);

/** Destinations the flow below tries, and the verdict each must get. */
const TRIES = [
  { url: 'http://gitlab.test/', host: 'gitlab.test', port: 80, refused: false },
  {
    url: 'http://api.gitlab.test/',
    host: 'api.gitlab.test',
    port: 80,
    refused: false,
  },
  {
    url: 'http://outside.test/',
    host: 'outside.test',
    port: 80,
    refused: true,
  },
  {
    url: 'http://evilgitlab.test:8080/',
    host: 'evilgitlab.test',
    port: 8080,
    refused: true,
  },
  { url: `http://${OUTSIDE4}/`, host: OUTSIDE4, port: 80, refused: true },
];
const FLOW =
  TRIES.map((t) => `curl -s -m 5 -o /dev/null ${t.url}`).join('; ') + '; true';

if (skip) {
  test.skip(`self-test and report (${skip})`, () => {});
} else {
  const { net } = useTestnet(test);

  test.serial(
    'srt: the self-test passes and is printed as a table',
    async (t) => {
      const result = await net().exec(
        [
          FLOW_SANDBOX,
          'selftest',
          '--engine',
          'srt',
          '--selftest-address',
          OUTSIDE4,
        ],
        { env: jobEnv(net()) },
      );
      t.is(result.exitCode, 0, result.stderr);
      t.regex(
        result.stderr,
        /outside host by address\s+refused\s+refused\s+PASS/,
      );
      t.regex(
        result.stderr,
        /DNS to another server \(TCP\)\s+refused\s+refused\s+PASS/,
      );
      t.regex(result.stderr, /~\/\.ssh unreadable\s+refused\s+refused\s+PASS/);
      t.regex(result.stderr, /self-test PASSED/);
    },
  );

  test.serial(
    'srt: the JSON report names exactly what the flow was refused',
    async (t) => {
      const file = path.join(net().paths.base, 'report-srt.json');
      const result = await runSandboxed(
        net(),
        [
          '--force-sandbox',
          '--engine',
          'srt',
          '--selftest',
          '--selftest-address',
          OUTSIDE4,
          '--report',
          file,
        ],
        ['sh', '-c', FLOW],
      );
      t.is(result.exitCode, 0, result.stderr);
      const report = JSON.parse(await readFile(file, 'utf8'));
      t.is(report.engine, 'srt');
      t.true(report.sandboxApplied);
      t.true(report.selftest.pass);
      const blocked = report.blocked.destinations
        .map((d: { host: string; port: number }) => `${d.host}:${d.port}`)
        .sort();
      const expected = TRIES.filter((x) => x.refused)
        .map((x) => `${x.host}:${x.port}`)
        .sort();
      t.deepEqual(
        blocked,
        expected,
        "the self-test's own refusals must not appear either",
      );
      t.regex(
        result.stderr,
        /summary: engine srt, sandbox applied, command status 0, self-test passed/,
      );
      t.regex(result.stderr, /refused outside\.test:80\/tcp x1/);
    },
  );

  test.serial(
    'no sandbox: the report says so and blocks nothing',
    async (t) => {
      const file = path.join(net().paths.base, 'report-none.json');
      const result = await runSandboxed(
        net(),
        ['--force-sandbox', '--engine', 'none', '--report', file],
        ['true'],
      );
      t.is(result.exitCode, 0, result.stderr);
      const report = JSON.parse(await readFile(file, 'utf8'));
      t.false(report.sandboxApplied);
      t.deepEqual(report.blocked.destinations, []);
      t.regex(result.stderr, /sandbox NOT applied/);
    },
  );

  // The controller is root and writes the report after the command ran, in
  // a directory the command could write: what the command left at the name
  // is replaced, never written through.
  for (const engine of ['srt', 'kernel'] as const) {
    const why = engine === 'kernel' ? kernelSkipReason('nft') : undefined;
    (why ? test.skip : test.serial)(
      `${engine}: a report name the command made a symlink is replaced, the file it led to is untouched${why ? ` (${why})` : ''}`,
      async (t) => {
        const n = net();
        const victim = path.join(n.paths.base, `victim-${engine}`);
        await writeFile(victim, 'original\n');
        const file = path.join(n.paths.work, `report-${engine}.json`);
        await rm(file, { force: true });
        const result = await runSandboxed(
          n,
          [
            '--force-sandbox',
            '--engine',
            engine,
            '--minimum-level',
            engine,
            '--report',
            file,
          ],
          ['ln', '-s', victim, file],
        );
        t.is(result.exitCode, 0, result.stderr);
        t.is(await readFile(victim, 'utf8'), 'original\n');
        t.true((await lstat(file)).isFile(), 'a file of its own');
        t.is(JSON.parse(await readFile(file, 'utf8')).engine, engine);
        await rm(file, { force: true });
        await rm(victim, { force: true });
      },
    );
  }

  test.serial(
    'a report path through a symlink, at a symlink or at a directory: exit 125, the command does not run',
    async (t) => {
      const n = net();
      const real = path.join(n.paths.work, 'artifacts');
      const linked = path.join(n.paths.work, 'artifacts-link');
      await mkdir(real, { recursive: true });
      await symlink(real, linked);
      await symlink('/etc/hostname', path.join(real, 'named.json'));
      const marker = path.join(n.paths.work, 'ran-report-path');
      try {
        for (const [file, why] of [
          [
            path.join(linked, 'r.json'),
            /through a symlink; give .*artifacts\/r\.json/,
          ],
          [path.join(real, 'named.json'), /it is a symlink/],
          [real, /it is a directory/],
        ] as const) {
          const result = await runSandboxed(
            n,
            ['--force-sandbox', '--engine', 'none', '--report', file],
            ['touch', marker],
          );
          t.is(result.exitCode, 125, result.stderr);
          t.regex(result.stderr, /--report: ".*" is not accepted/);
          t.regex(result.stderr, why);
          await t.throwsAsync(lstat(marker), undefined, 'the command ran');
        }
      } finally {
        await rm(real, { recursive: true, force: true });
        await rm(linked, { force: true });
      }
    },
  );

  // A name the command asks the kernel engine's resolver for is logged as
  // refused, and listed in the summary: its bytes must stay inert there.
  const kernelWhy = kernelSkipReason('nft');
  (kernelWhy ? test.skip : test.serial)(
    `kernel: a refused name full of terminal controls cannot forge or hide job-log lines${kernelWhy ? ` (${kernelWhy})` : ''}`,
    async (t) => {
      const query = String.raw`
import socket, struct
labels = [b'x\r\x1b[K[flow-sandbox] summary: forged', b'\x1b]0;t\x07\x9b2J']
q = struct.pack('>HHHHHH', 0x1234, 0x0100, 1, 0, 0, 0)
q += b''.join(bytes([len(l)]) + l for l in labels) + b'\x00' + struct.pack('>HH', 1, 1)
ns = [l.split()[1] for l in open('/etc/resolv.conf') if l.startswith('nameserver')][0]
s = socket.socket(socket.AF_INET6 if ':' in ns else socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(3)
s.sendto(q, (ns, 53))
print(s.recv(512)[3] & 15)
`;
      const result = await runSandboxed(
        net(),
        ['--force-sandbox', '--engine', 'kernel', '--minimum-level', 'kernel'],
        ['python3', '-c', query],
      );
      t.is(result.exitCode, 0, result.stderr);
      t.is(result.stdout.trim(), '5', 'the name is REFUSED');
      // GitLab's section markers are flow-sandbox's own escapes.
      const log = result.stderr.replace(
        /\x1b\[0Ksection_(start|end):\S*\r\x1b\[0K/g,
        '',
      );
      t.notRegex(log, /[\x00-\x09\x0b-\x1f\x7f-\x9f]/);
      t.regex(result.stderr, /x\\r\\u001b\[K\[flow-sandbox\] summary: forged/);
      const forged = log
        .split('\n')
        .filter((l) => /^\S*\[flow-sandbox\] summary/.test(l));
      t.is(forged.length, 1, forged.join('\n'));
    },
  );
}
