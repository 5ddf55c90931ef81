import test from 'ava';
import { parseAgentConfig } from '../../src/policy/agent-config.js';
import { judge } from '../../src/policy/match.js';
import { buildAuditReport, destinationEntry } from '../../src/report/audit.js';
import { merged, operator, project } from '../policy/helpers.js';

const seen = (host: string, port: number, count = 1) => ({ host, port, count });

test('findings, reasons and a snippet that allows exactly what was seen', async (t) => {
  const projectYaml =
    'network_policy:\n  allowed_domains: [allowed.test]\n  denied_domains: [bad.test]\n';
  const policy = await merged({ project: projectYaml });
  const report = buildAuditReport({
    runId: 'r1',
    engine: 'srt',
    observations: {
      letThrough: [seen('outside.test', 8080, 2), seen('2001:db8::5', 443)],
      refused: [
        { ...seen('bad.test', 80), reason: 'host is on the deny list' },
      ],
    },
    policy,
    project: await project(projectYaml),
  });
  t.deepEqual(
    report.wouldBeRefused.map((f) => [f.destination, f.count, f.reason]),
    [
      ['outside.test:8080', 2, 'not on the allow list'],
      ['[2001:db8::5]:443', 1, 'not on the allow list'],
    ],
  );
  t.deepEqual(
    report.refusedInAudit.map((f) => f.destination),
    ['bad.test:80'],
  );
  t.deepEqual(report.suggestedAllowedDomains, [
    'allowed.test',
    'outside.test:8080',
    '[2001:db8::5]:443',
  ]);

  // Pasting the snippet gives a policy that allows every finding, and keeps
  // the project's own entries.
  const pasted = await parseAgentConfig(report.snippet, 'snippet');
  t.deepEqual(pasted.network_policy?.denied_domains, ['bad.test']);
  const after = await merged({ project: report.snippet });
  for (const f of report.wouldBeRefused) {
    t.true(
      judge(after.network, { host: f.host, port: f.port }).allowed,
      f.destination,
    );
  }
  t.false(judge(after.network, { host: 'outside.test', port: 80 }).allowed);
});

test('a destination whose project entry the operator refused says so, and is left out', async (t) => {
  const opYaml = 'mode: flexible\ndenied_domains: [outside.test]\n';
  const projectYaml = 'network_policy:\n  allowed_domains: [outside.test]\n';
  const policy = await merged({ operator: opYaml, project: projectYaml });
  const report = buildAuditReport({
    runId: 'r2',
    engine: 'srt',
    observations: {
      letThrough: [seen('outside.test', 443), seen('new.test', 443)],
      refused: [],
    },
    policy,
    operator: await operator(opYaml),
    project: await project(projectYaml),
  });
  t.regex(
    report.wouldBeRefused[0]!.reason,
    /project entry outside\.test .* was refused: overlaps the operator's denied entry/,
  );
  t.deepEqual(
    report.notSuggested.map((n) => n.destination),
    ['outside.test:443'],
  );
  // The refused project entry must not come back by pasting the snippet.
  t.deepEqual(report.suggestedAllowedDomains, ['new.test:443']);
  t.regex(report.snippet, /# - "outside\.test:443" # not suggested: overlaps/);
  t.regex(report.snippet, /# - "outside\.test" # refused: overlaps/);
  t.notRegex(report.snippet, /^ {4}- "outside\.test"/m);
});

test('strict operator: only covered destinations are suggested', async (t) => {
  const opYaml = 'mode: strict\nallowed_domains: ["*.mirror.test"]\n';
  const policy = await merged({ operator: opYaml });
  const report = buildAuditReport({
    runId: 'r3',
    engine: 'srt',
    observations: {
      letThrough: [seen('a.mirror.test', 443), seen('x.test', 443)],
      refused: [],
    },
    policy,
    operator: await operator(opYaml),
  });
  t.deepEqual(report.suggestedAllowedDomains, ['a.mirror.test:443']);
  t.deepEqual(
    report.notSuggested.map((n) => n.destination),
    ['x.test:443'],
  );
});

test('destination entries', (t) => {
  t.is(destinationEntry('a.test', 443), 'a.test:443');
  t.is(destinationEntry('198.18.0.1', 80), '198.18.0.1:80');
  t.is(destinationEntry('2001:db8::1', 80), '[2001:db8::1]:80');
  t.is(destinationEntry('a.test', 0), 'a.test');
});
