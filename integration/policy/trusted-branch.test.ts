import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import anyTest, { type TestFn } from 'ava';
import { DEFAULT_IMAGE } from '../../src/decision/image.js';
import { cli } from '../../test/helpers/cli.js';
import { twoBranchRepo, type TwoBranchRepo } from '../../test/helpers/git.js';
import {
  createHostNet,
  HOSTS,
  skipReason,
  type HostNet,
} from '../helpers/hostnet.js';

const test = anyTest as TestFn<{
  net: HostNet;
  repo: TwoBranchRepo;
  state: string;
}>;
const reason = await skipReason();

const MAIN = 'network_policy:\n  allowed_domains: ["allowed.test:8080"]\n';
const FEATURE =
  'network_policy:\n  allowed_domains: ["allowed.test:8080", "outside.test:8080"]\n';

/** The flow: fetch both hosts, print each HTTP status. */
const FLOW = [
  'sh',
  '-c',
  'for h in allowed.test outside.test; do printf "%s %s\\n" $h $(curl -s -o /dev/null -w "%{http_code}" --max-time 5 http://$h:8080/); done',
];

function ciEnv(state: string, branch: string): Record<string, string> {
  return {
    GITLAB_CI: 'true',
    CI_COMMIT_REF_NAME: branch,
    CI_DEFAULT_BRANCH: 'main',
    CI_JOB_IMAGE: `${DEFAULT_IMAGE}:v0.0.6`,
    CI_SERVER_HOST: 'gitlab.test',
    FLOW_SANDBOX_STATE_DIR: state,
  };
}

if (reason) {
  test.skip(`trusted project policy (skipped: ${reason})`, () => undefined);
} else {
  test.serial.before(async (t) => {
    t.context.repo = await twoBranchRepo(MAIN, FEATURE);
    t.context.net = await createHostNet();
    t.context.state = await mkdtemp(path.join(os.tmpdir(), 'fsbx-state-'));
  });
  test.serial.after.always(async (t) => {
    await t.context.net?.cleanup();
    await t.context.repo?.cleanup();
    if (t.context.state)
      await rm(t.context.state, { recursive: true, force: true });
  });

  test.serial(
    'the plan of a feature-branch job uses the default branch policy',
    async (t) => {
      const { repo, state } = t.context;
      const r = await cli(
        repo.checkout,
        ['run', '--dry-run', '--json', '--', 'true'],
        ciEnv(state, 'feature'),
      );
      t.is(r.exitCode, 0, r.stderr);
      const plan = JSON.parse(r.stdout);
      t.true(plan.decision.apply, 'the sandbox applies to this CI job');
      const allow = plan.policy.network.allow as {
        entry: string;
        source: { kind: string; origin: string };
      }[];
      const project = allow.filter((x) => x.source.kind === 'project');
      t.deepEqual(
        project.map((x) => x.entry),
        ['allowed.test:8080'],
      );
      t.is(
        project[0]!.source.origin,
        `.gitlab/duo/agent-config.yml@${repo.mainCommit.slice(0, 12)} (origin/main): network_policy.allowed_domains[0]`,
      );
      t.false(allow.some((x) => x.entry.startsWith('outside.test')));
      t.true(plan.sources[1].detail.includes(`commit ${repo.mainCommit}`));
      t.regex(
        r.stderr,
        new RegExp(
          `project configuration: .*@${repo.mainCommit.slice(0, 12)} \\(origin/main\\).*commit=${repo.mainCommit}`,
        ),
      );
      t.regex(
        r.stderr,
        /WARN: the working tree's agent configuration differs from the trusted version/,
      );
    },
  );

  test.serial(
    'a real SRT run from the feature branch: the outside host stays refused',
    async (t) => {
      const { repo, net, state } = t.context;
      const before = net.requests().length;
      const r = await cli(
        repo.checkout,
        ['run', '--engine', 'srt', '--', ...FLOW],
        ciEnv(state, 'feature'),
        { prefix: net.prefix },
      );
      t.is(r.exitCode, 0, r.stderr);
      t.regex(r.stdout, /^allowed\.test 200$/m);
      t.regex(r.stdout, /^outside\.test 403$/m);
      const reached = net.requests().slice(before);
      t.true(reached.includes(HOSTS['allowed.test']!));
      t.false(
        reached.includes(HOSTS['outside.test']!),
        'the outside host received nothing',
      );
    },
  );

  test.serial(
    'control: the same run with the feature file trusted reaches the outside host',
    async (t) => {
      // Outside CI the working tree counts: this proves the refusal above came
      // from the trusted-version rule, not from the test network.
      const { repo, net, state } = t.context;
      const before = net.requests().length;
      const r = await cli(
        repo.checkout,
        ['run', '--engine', 'srt', '--force-sandbox', '--', ...FLOW],
        { FLOW_SANDBOX_STATE_DIR: state },
        { prefix: net.prefix },
      );
      t.is(r.exitCode, 0, r.stderr);
      t.regex(r.stdout, /^outside\.test 200$/m);
      t.true(net.requests().slice(before).includes(HOSTS['outside.test']!));
    },
  );
}
