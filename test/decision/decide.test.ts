import test from 'ava';
import { decide } from '../../src/decision/decide.js';
import {
  DEFAULT_IMAGE,
  judgeImage,
  parseImageRef,
} from '../../src/decision/image.js';

const ci = { GITLAB_CI: 'true', CI_JOB_IMAGE: `${DEFAULT_IMAGE}:v0.0.6` };

const images: Array<[string | undefined, boolean]> = [
  [`${DEFAULT_IMAGE}:v0.0.6`, true],
  [`${DEFAULT_IMAGE}:v0.0.5`, false],
  [`${DEFAULT_IMAGE}:0.0.7`, true],
  [`${DEFAULT_IMAGE}:v0.1.0`, true],
  [`${DEFAULT_IMAGE}:v1.0.0-rc1`, true],
  [`${DEFAULT_IMAGE}:v0.0.5-rc9`, false],
  [`${DEFAULT_IMAGE}:latest`, true],
  [DEFAULT_IMAGE, true],
  [`${DEFAULT_IMAGE}@sha256:${'a'.repeat(64)}`, true],
  [`${DEFAULT_IMAGE}:main`, true],
  ['node:20', false],
  ['registry.example.com:5000/duo-workflow/default-docker-image:v0.0.9', false],
  [undefined, false],
];

for (const [image, ok] of images) {
  test(`image ${image ?? '(unset)'} → ${ok ? 'sandbox' : 'no sandbox'}`, (t) => {
    t.is(judgeImage(image).ok, ok);
  });
}

test('a registry port is not a tag', (t) => {
  t.deepEqual(parseImageRef('host:5000/a/b'), {
    repository: 'host:5000/a/b',
    digest: undefined,
  });
});

const table: Array<
  [string, Record<string, string>, string | undefined, boolean, RegExp]
> = [
  ['all conditions hold', ci, undefined, true, /default image v0\.0\.6/],
  [
    'custom image in agent config',
    ci,
    'ruby:3',
    false,
    /custom image \(ruby:3\)/,
  ],
  [
    'old default image',
    { ...ci, CI_JOB_IMAGE: `${DEFAULT_IMAGE}:v0.0.1` },
    undefined,
    false,
    /older than v0\.0\.6/,
  ],
  [
    'developer machine',
    { CI_JOB_IMAGE: ci.CI_JOB_IMAGE },
    undefined,
    false,
    /not on a CI runner/,
  ],
  [
    'CI=true counts as CI',
    { CI: 'true', CI_JOB_IMAGE: ci.CI_JOB_IMAGE },
    undefined,
    true,
    /CI runner/,
  ],
];

for (const [name, env, image, apply, reason] of table) {
  test(`decision: ${name}`, (t) => {
    const decision = decide({
      env,
      agentConfig: image ? { image } : undefined,
    });
    t.is(decision.apply, apply);
    t.regex(decision.reason, reason);
    t.is(decision.conditions.length, 3);
  });
}

test('the operator can force the sandbox; the waived conditions are named', (t) => {
  const decision = decide({
    env: {},
    agentConfig: { image: 'ruby:3' },
    forcedBy: '--force-sandbox',
  });
  t.true(decision.apply);
  t.is(decision.forcedBy, '--force-sandbox');
  t.regex(decision.reason, /waived: .*custom image/);
});
