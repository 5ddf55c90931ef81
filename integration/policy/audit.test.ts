import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import anyTest, { type TestFn } from 'ava';
import type { AuditReport } from '../../src/report/audit.js';
import { cli } from '../../test/helpers/cli.js';
import { writeConfig } from '../../test/helpers/git.js';
import {
  createHostNet,
  HOSTS,
  skipReason,
  type HostNet,
} from '../helpers/hostnet.js';

const test = anyTest as TestFn<{ net: HostNet; dir: string }>;
const reason = await skipReason();

/** A flow that needs three hosts and fails if any is refused (curl -f). */
const FLOW = [
  'sh',
  '-ec',
  'for h in allowed.test outside.test other.test; do curl -sSf --max-time 5 -o /dev/null http://$h:8080/; echo "$h ok"; done',
];

if (reason) {
  test.skip(`audit mode (skipped: ${reason})`, () => undefined);
} else {
  test.serial.before(async (t) => {
    t.context.net = await createHostNet();
    t.context.dir = await mkdtemp(path.join(os.tmpdir(), 'fsbx-audit-'));
  });
  test.serial.after.always(async (t) => {
    await t.context.net?.cleanup();
    if (t.context.dir)
      await rm(t.context.dir, { recursive: true, force: true });
  });

  /** Runs the flow in the test network, in a project dir outside CI (the working tree counts). */
  async function run(
    t: { context: { net: HostNet; dir: string } },
    args: string[],
  ) {
    const { net, dir } = t.context;
    return cli(
      path.join(dir, 'project'),
      ['run', '--engine', 'srt', '--force-sandbox', ...args, '--', ...FLOW],
      { FLOW_SANDBOX_STATE_DIR: path.join(dir, 'state') },
      { prefix: net.prefix },
    );
  }

  const readReport = async (file: string) =>
    JSON.parse(await readFile(file, 'utf8')) as AuditReport;

  test.serial(
    'audit: the flow completes, the report names exactly the two refused hosts, and its policy lets the flow pass',
    async (t) => {
      const { dir, net } = t.context;
      const project = path.join(dir, 'project');
      await writeConfig(
        project,
        'network_policy:\n  allowed_domains: ["allowed.test:8080"]\n',
      );

      // Under enforcement the flow fails at the first refused host.
      const enforced = await run(t, []);
      t.not(enforced.exitCode, 0);
      t.regex(enforced.stdout, /^allowed\.test ok$/m, enforced.stderr);
      t.notRegex(enforced.stdout, /outside\.test ok/);

      // In audit mode the same flow completes and reaches all three hosts.
      const first = path.join(dir, 'first.json');
      const before = net.requests().length;
      const audit = await run(t, ['--audit', '--audit-report', first]);
      t.is(audit.exitCode, 0, audit.stderr);
      t.regex(audit.stdout, /^other\.test ok$/m);
      const reached = net.requests().slice(before);
      for (const host of Object.keys(HOSTS))
        t.true(reached.includes(HOSTS[host]!), host);

      const report = await readReport(first);
      t.deepEqual(
        report.wouldBeRefused.map((f) => f.destination),
        ['other.test:8080', 'outside.test:8080'],
      );
      t.deepEqual(report.refusedInAudit, []);
      t.deepEqual(report.suggestedAllowedDomains, [
        'allowed.test:8080',
        'other.test:8080',
        'outside.test:8080',
      ]);
      t.regex(
        audit.stderr,
        /WARN: audit: would refuse outside\.test:8080 \(1x\): not on the allow list/,
      );
      t.regex(audit.stderr, /WARN: audit: would refuse other\.test:8080/);
      t.true(
        audit.stderr.includes(report.snippet),
        'the snippet is in the job log',
      );

      // Pasting the suggested policy: enforced, the flow passes.
      await writeConfig(project, report.snippet);
      const after = await run(t, []);
      t.is(after.exitCode, 0, after.stderr);
      t.regex(after.stdout, /^other\.test ok$/m);

      // And an audit with it finds nothing left to refuse.
      const second = path.join(dir, 'second.json');
      const again = await run(t, ['--audit', '--audit-report', second]);
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
      const { dir } = t.context;
      await writeConfig(
        path.join(dir, 'project'),
        'network_policy:\n  allowed_domains: ["allowed.test:8080"]\n  denied_domains: ["other.test"]\n',
      );
      const file = path.join(dir, 'deny.json');
      const r = await run(t, ['--audit', '--audit-report', file]);
      t.not(r.exitCode, 0, 'curl -f fails on the denied host');
      t.regex(r.stdout, /^outside\.test ok$/m);
      const report = await readReport(file);
      t.deepEqual(
        report.wouldBeRefused.map((f) => f.destination),
        ['outside.test:8080'],
      );
      t.deepEqual(
        report.refusedInAudit.map((f) => [f.destination, f.reason]),
        [['other.test:8080', 'host is on the deny list']],
      );
      t.false(report.suggestedAllowedDomains.includes('other.test:8080'));
    },
  );
}
