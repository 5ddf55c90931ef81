// The self-test and the end-of-run report, on the private test network,
// for every engine this build has that can run here. Root only.
import test from 'ava';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { OUTSIDE4 } from '../scripts/testnet/topology.js';
import { useTestnet } from './fixture.js';
import { runSandboxed, FLOW_SANDBOX, jobEnv } from './sandbox-run.js';
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
}
