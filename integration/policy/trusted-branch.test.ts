// A feature branch edits .gitlab/duo/agent-config.yml to allow an outside
// host: the job must use the default branch's policy, in the plan and in a
// real SRT run in the private test network. Root only.
import test from 'ava';
import { DEFAULT_IMAGE } from '../../src/decision/image.js';
import { twoBranchRepo, type TwoBranchRepo } from '../../test/helpers/git.js';
import { useTestnet } from '../fixture.js';
import { rootSkipReason } from '../skip.js';
import { outsideRequests, runIn, statusFlow } from './net.js';

const skip = rootSkipReason(['bwrap', 'socat', 'rg', 'node']);

const MAIN = 'network_policy:\n  allowed_domains: ["api.outside.test:80"]\n';
const FEATURE =
  'network_policy:\n  allowed_domains: ["api.outside.test:80", "evil.test:80"]\n';
const FLOW = statusFlow(['api.outside.test', 'evil.test']);

/** A CI job on `branch` of a project whose default branch is main. */
const ci = (branch: string) => ({
  GITLAB_CI: 'true',
  CI_COMMIT_REF_NAME: branch,
  CI_DEFAULT_BRANCH: 'main',
  CI_JOB_IMAGE: `${DEFAULT_IMAGE}:v0.0.6`,
});

if (skip) {
  test.skip(`trusted project policy (${skip})`, () => {});
} else {
  const { net } = useTestnet(test);
  let repo: TwoBranchRepo | undefined;
  const checkout = async () => {
    repo ??= await twoBranchRepo(MAIN, FEATURE, net().paths.base);
    return repo;
  };
  test.after.always(() => repo?.cleanup());

  test.serial(
    'the plan of a feature-branch job uses the default branch policy',
    async (t) => {
      const r = await checkout();
      const result = await runIn(
        net(),
        r.checkout,
        ['--dry-run', '--json'],
        ['true'],
        ci('feature'),
      );
      t.is(result.exitCode, 0, result.stderr);
      const plan = JSON.parse(result.stdout);
      t.true(plan.decision.apply, 'the sandbox applies to this CI job');
      const allow = plan.policy.network.allow as {
        entry: string;
        source: { kind: string; origin: string };
      }[];
      const project = allow.filter((x) => x.source.kind === 'project');
      t.deepEqual(
        project.map((x) => x.entry),
        ['api.outside.test:80'],
      );
      t.is(
        project[0]!.source.origin,
        `.gitlab/duo/agent-config.yml@${r.mainCommit.slice(0, 12)} (origin/main): network_policy.allowed_domains[0]`,
      );
      t.false(allow.some((x) => x.entry.startsWith('evil.test')));
      t.true(plan.sources[1].detail.includes(`commit ${r.mainCommit}`));
      t.regex(
        result.stderr,
        new RegExp(
          `project configuration: .*@${r.mainCommit.slice(0, 12)} \\(origin/main\\).*commit=${r.mainCommit}`,
        ),
      );
      t.regex(
        result.stderr,
        /WARN: the working tree's agent configuration differs from the trusted version/,
      );
    },
  );

  test.serial(
    'a real SRT run from the feature branch: the outside host stays refused',
    async (t) => {
      const r = await checkout();
      const result = await runIn(
        net(),
        r.checkout,
        ['--engine', 'srt'],
        FLOW,
        ci('feature'),
      );
      t.is(result.exitCode, 0, result.stderr);
      t.regex(result.stdout, /^api\.outside\.test 200$/m);
      t.regex(result.stdout, /^evil\.test 403$/m);
      const seen = await outsideRequests(net());
      t.true(seen.includes('api.outside.test'));
      t.false(seen.includes('evil.test'), 'the refused host received nothing');
    },
  );

  test.serial(
    'control: with the feature file trusted, the same flow reaches it',
    async (t) => {
      // Outside CI the working tree counts: the refusal above came from the
      // trusted-version rule, not from the test network.
      const r = await checkout();
      const result = await runIn(
        net(),
        r.checkout,
        ['--engine', 'srt', '--force-sandbox'],
        FLOW,
      );
      t.is(result.exitCode, 0, result.stderr);
      t.regex(result.stdout, /^evil\.test 200$/m);
      t.true((await outsideRequests(net())).includes('evil.test'));
    },
  );
}
