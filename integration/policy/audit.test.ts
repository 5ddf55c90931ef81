// Audit mode with SRT in the private test network: a flow that needs one
// allowed host and two refused ones completes, the report names exactly
// the two, and its suggested policy lets the same flow pass. Root only.
import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import test from 'ava';
import type { AuditReport } from '../../src/report/audit.js';
import { writeConfig } from '../../test/helpers/git.js';
import { useTestnet } from '../fixture.js';
import { rootSkipReason } from '../skip.js';
import { outsideRequests, runIn } from './net.js';

const skip = rootSkipReason(['bwrap', 'socat', 'rg', 'node']);

/** Needs all three hosts; `curl -f` makes a refused one fail the flow. */
const FLOW = [
  'sh',
  '-ec',
  'for h in api.outside.test outside.test evil.test; do curl -sSf --max-time 5 -o /dev/null http://$h/; echo "$h ok"; done',
];
const SRT = ['--engine', 'srt', '--force-sandbox'];

const readReport = async (file: string) =>
  JSON.parse(await readFile(file, 'utf8')) as AuditReport;

if (skip) {
  test.skip(`audit mode (${skip})`, () => {});
} else {
  const { net, start } = useTestnet(test);
  const project = () => path.join(net().paths.base, 'audit-project');
  const run = (args: string[]) =>
    runIn(net(), project(), [...SRT, ...args], FLOW);

  test.serial(
    'audit: the flow completes, the report names exactly the two refused hosts, and its policy lets the flow pass',
    async (t) => {
      await mkdir(project(), { recursive: true });
      await writeConfig(
        project(),
        'network_policy:\n  allowed_domains: ["api.outside.test:80"]\n',
      );

      // Under enforcement the flow stops at the first refused host.
      const enforced = await run([]);
      t.not(enforced.exitCode, 0);
      t.regex(enforced.stdout, /^api\.outside\.test ok$/m, enforced.stderr);
      t.notRegex(enforced.stdout, /^outside\.test ok$/m);

      // In audit mode the same flow completes and reaches all three.
      const first = path.join(project(), 'first.json');
      const audit = await run(['--audit', '--audit-report', first]);
      t.is(audit.exitCode, 0, audit.stderr);
      t.regex(audit.stdout, /^evil\.test ok$/m);
      const seen = await outsideRequests(net());
      for (const host of ['api.outside.test', 'outside.test', 'evil.test'])
        t.true(seen.includes(host), host);

      const report = await readReport(first);
      t.deepEqual(
        report.wouldBeRefused.map((f) => f.destination),
        ['evil.test:80', 'outside.test:80'],
      );
      t.deepEqual(report.refusedInAudit, []);
      t.deepEqual(report.suggestedAllowedDomains, [
        'api.outside.test:80',
        'evil.test:80',
        'outside.test:80',
      ]);
      t.regex(
        audit.stderr,
        /WARN: audit: would refuse outside\.test:80 \(1x\): not on the allow list/,
      );
      t.regex(audit.stderr, /WARN: audit: would refuse evil\.test:80/);
      t.true(
        audit.stderr.includes(report.snippet),
        'the snippet is in the job log',
      );

      // With the suggested policy pasted, the enforced flow passes.
      await writeConfig(project(), report.snippet);
      const after = await run([]);
      t.is(after.exitCode, 0, after.stderr);
      t.regex(after.stdout, /^evil\.test ok$/m);

      // And an audit with it finds nothing left to refuse.
      const second = path.join(project(), 'second.json');
      const again = await run(['--audit', '--audit-report', second]);
      t.is(again.exitCode, 0, again.stderr);
      t.deepEqual((await readReport(second)).wouldBeRefused, []);
      t.regex(
        again.stderr,
        /audit: 0 destination\(s\) would have been refused/,
      );
    },
  );

  test.serial(
    'audit: deny entries still block, and are reported apart',
    async (t) => {
      await writeConfig(
        project(),
        'network_policy:\n  allowed_domains: ["api.outside.test:80"]\n  denied_domains: ["evil.test"]\n',
      );
      const file = path.join(project(), 'deny.json');
      const r = await run(['--audit', '--audit-report', file]);
      t.not(r.exitCode, 0, 'curl -f fails on the denied host');
      t.regex(r.stdout, /^outside\.test ok$/m);
      const report = await readReport(file);
      t.deepEqual(
        report.wouldBeRefused.map((f) => f.destination),
        ['outside.test:80'],
      );
      t.deepEqual(
        report.refusedInAudit.map((f) => [f.destination, f.reason]),
        [['evil.test:80', 'host is on the deny list']],
      );
      t.false(report.suggestedAllowedDomains.includes('evil.test:80'));
    },
  );

  test.serial('the audit runs left nothing behind in the runner', async (t) => {
    t.deepEqual(await net().differences(start(), await net().snapshot()), []);
  });
}
