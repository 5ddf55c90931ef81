import test from 'ava';
import { decide } from '../../src/decision/decide.js';
import { DEFAULT_IMAGE } from '../../src/decision/image.js';

const CI = { GITLAB_CI: 'true' };
const RULE =
  'require_sandbox_for_custom_images in /etc/flow-sandbox/operator.yml';

test('a custom image in the agent configuration: no sandbox by default', (t) => {
  const d = decide({
    env: { ...CI, CI_JOB_IMAGE: 'custom/image:1' },
    agentConfig: { image: 'custom/image:1' },
  });
  t.false(d.apply);
});

test('the operator can require the sandbox for custom images, and the reason says so', (t) => {
  const d = decide({
    env: { ...CI, CI_JOB_IMAGE: 'custom/image:1' },
    agentConfig: { image: 'custom/image:1' },
    requireForCustomImages: RULE,
  });
  t.true(d.apply);
  t.is(d.forcedBy, undefined);
  for (const name of ['agent-config', 'image'] as const) {
    const c = d.conditions.find((x) => x.name === name)!;
    t.true(c.ok);
    t.true(
      c.reason.endsWith(
        `the sandbox applies anyway: ${RULE} requires it for custom images`,
      ),
    );
  }
});

test('a custom CI_JOB_IMAGE alone is covered by the rule too', (t) => {
  const d = decide({
    env: { ...CI, CI_JOB_IMAGE: 'registry.example.com/ci/node:20' },
    agentConfig: undefined,
    requireForCustomImages: RULE,
  });
  t.true(d.apply);
});

test('an old default image is not a custom image: the rule does not waive it', (t) => {
  const d = decide({
    env: { ...CI, CI_JOB_IMAGE: `${DEFAULT_IMAGE}:v0.0.5` },
    agentConfig: undefined,
    requireForCustomImages: RULE,
  });
  t.false(d.apply);
  t.regex(d.reason, /older than v0\.0\.6/);
});

test('outside CI the rule changes nothing', (t) => {
  const d = decide({
    env: { CI_JOB_IMAGE: 'custom/image:1' },
    agentConfig: undefined,
    requireForCustomImages: RULE,
  });
  t.false(d.apply);
  t.regex(d.reason, /not on a CI runner/);
});

test('the reason names the version of the agent configuration that was read', (t) => {
  const label = '.gitlab/duo/agent-config.yml@0123456789ab (origin/main)';
  const d = decide({
    env: { ...CI, CI_JOB_IMAGE: DEFAULT_IMAGE },
    agentConfig: {},
    agentConfigLabel: label,
  });
  t.true(d.apply);
  t.true(d.conditions[0]!.reason.includes(label));
});
