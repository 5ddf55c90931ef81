// The SRT engine against the verdict table, in the private test network.
// Root only: skipped with the reason elsewhere.
import test from 'ava';
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { CASES } from './cases.js';
import {
  baselineCases,
  compareCases,
  failures,
  formatTable,
  leakedNames,
  runFlow,
} from './flow.js';
import { useTestnet } from './fixture.js';
import {
  jobEnv,
  listing,
  tmpLeftovers,
  runSandboxed,
  sandboxWrap,
  stateDirOf,
} from './sandbox-run.js';
import { rootSkipReason } from './skip.js';

const SRT = ['--force-sandbox', '--engine', 'srt'];
const skip = rootSkipReason(['bwrap', 'socat', 'rg', 'node']);

if (skip) {
  // Reported as skipped, with the reason, never as passed.
  test.skip(`SRT verdict cases (${skip})`, () => {});
} else {
  const { net: nett, start } = useTestnet(test);

  test.serial(
    'without a sandbox every case is possible in the test network',
    async (t) => {
      const cases = baselineCases(CASES);
      const { result, observations } = await runFlow(nett(), {
        cases,
        wrap: [],
      });
      const rows = compareCases(cases, observations, 'baseline');
      t.log(`\n${formatTable(rows)}`);
      t.deepEqual(
        rows
          .filter((r) => !r.ok)
          .map((r) => `${r.case.id}: ${r.observed} ${r.detail}`),
        [],
        result.stderr,
      );
    },
  );

  test.serial(
    'SRT gives every case its verdict and looks up no refused name',
    async (t) => {
      const asked = (await nett().dnsQueries()).length;
      const { result, observations } = await runFlow(nett(), {
        cases: CASES,
        wrap: sandboxWrap(SRT),
        env: jobEnv(nett()),
      });
      const rows = compareCases(CASES, observations, 'srt');
      t.log(`\n${formatTable(rows)}`);
      for (const r of rows.filter((row) => row.gap)) {
        t.log(`known SRT gap in ${r.case.id}: ${r.case.gaps?.srt?.why}`);
      }
      t.is(result.exitCode, 0, result.stderr);
      t.deepEqual(failures(rows), []);
      const during = (await nett().dnsQueries()).slice(asked);
      t.deepEqual(
        leakedNames(CASES, during),
        [],
        'refused names reached the DNS server',
      );
    },
  );

  test.serial('a refused name never reaches the test DNS server', async (t) => {
    const nonce = randomBytes(4).toString('hex');
    const names = [
      `leak-${nonce}.outside.test`,
      `leak2-${nonce}.evil.test`,
      `leak3-${nonce}.outside.test`,
    ];
    const script = [
      `curl -s --max-time 5 http://${names[0]}/`,
      `curl -s --max-time 5 --noproxy '*' http://${names[0]}/`,
      `getent hosts ${names[1]}`,
      `python3 -c 'import socket; socket.getaddrinfo("${names[2]}", 80)'`,
      'curl -s --max-time 5 http://gitlab.test/',
    ].join('; ');
    const asked = (await nett().dnsQueries()).length;
    const result = await runSandboxed(nett(), SRT, ['sh', '-c', script]);
    const during = (await nett().dnsQueries()).slice(asked);
    t.regex(
      result.stdout,
      /fsbxt-host=gitlab/,
      'the allowed request is the control',
    );
    t.true(
      during.includes('gitlab.test'),
      'the DNS log records the allowed lookup',
    );
    t.deepEqual(
      during.filter((n) => n.includes(nonce)),
      [],
    );
  });

  test.serial(
    'an allowed Unix socket is reachable, an unlisted one is not',
    async (t) => {
      const dir = path.join(nett().paths.base, 'sockets');
      await mkdir(dir, { recursive: true });
      const allowed = path.join(dir, 'allowed.sock');
      // Not bound in the runner's namespace (this test's process is outside
      // it), so found by the scan of $HOME, as an agent's socket would be.
      const other = path.join(nett().paths.home, 'other.sock');
      const servers = [allowed, other].map((file) =>
        net
          .createServer((c) => c.end(`fsbxt-unix ${path.basename(file)}\n`))
          .listen(file),
      );
      t.teardown(() => servers.forEach((s) => s.close()));
      const config = path.join(nett().paths.base, 'unix-policy.yml');
      await writeFile(config, `network:\n  unix_sockets: [${allowed}]\n`);

      const probe = (file: string) =>
        `python3 -c 'import socket; s = socket.socket(socket.AF_UNIX); s.connect("${file}"); print(s.recv(64).decode().strip())'`;
      const result = await runSandboxed(
        nett(),
        [...SRT, '--config', config],
        ['sh', '-c', `${probe(allowed)}; ${probe(other)}`],
      );
      t.regex(result.stdout, /fsbxt-unix allowed\.sock/, result.stderr);
      // SRT opens every socket to reach one; flow-sandbox masks the others
      // it finds at start, and the run says so.
      t.notRegex(result.stdout, /fsbxt-unix other\.sock/);
      t.regex(
        result.stderr,
        /masks the other sockets it finds when the run starts/,
      );
    },
  );

  test.serial(
    'no leftovers: the runner namespace is as it was before the tests',
    async (t) => {
      const now = await nett().snapshot();
      t.deepEqual(await nett().differences(start(), now), []);
      t.deepEqual(await tmpLeftovers(nett()), [], 'nothing left in /tmp');
      t.deepEqual(await listing(stateDirOf(nett())), [], 'no run state left');
    },
  );
}
