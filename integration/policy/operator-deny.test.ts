import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import anyTest, { type TestFn } from 'ava';
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

const FLOW = [
  'sh',
  '-c',
  'for h in allowed.test outside.test other.test; do printf "%s %s\\n" $h $(curl -s -o /dev/null -w "%{http_code}" --max-time 5 http://$h:8080/); done',
];

if (reason) {
  test.skip(`operator denials at run time (skipped: ${reason})`, () =>
    undefined);
} else {
  test.before(async (t) => {
    t.context.net = await createHostNet();
    t.context.dir = await mkdtemp(path.join(os.tmpdir(), 'fsbx-opdeny-'));
  });
  test.after.always(async (t) => {
    await t.context.net?.cleanup();
    if (t.context.dir)
      await rm(t.context.dir, { recursive: true, force: true });
  });

  test('flexible operator: project and flag entries win nothing against operator denials', async (t) => {
    const { net, dir } = t.context;
    const op = path.join(dir, 'operator.yml');
    // outside.test by name; other.test only by its address, which the
    // merge cannot see: SRT refuses the name once it resolves there.
    await writeFile(
      op,
      `mode: flexible\ndenied_domains: ["outside.test", "${HOSTS['other.test']}"]\n`,
    );
    const project = path.join(dir, 'project');
    await writeConfig(
      project,
      'network_policy:\n  allowed_domains: ["allowed.test:8080", "outside.test:8080"]\n',
    );
    const before = net.requests().length;
    const r = await cli(
      project,
      [
        'run',
        '--engine',
        'srt',
        '--force-sandbox',
        '--operator-policy',
        op,
        '--allow',
        'other.test:8080',
        '--',
        ...FLOW,
      ],
      { FLOW_SANDBOX_STATE_DIR: path.join(dir, 'state') },
      { prefix: net.prefix },
    );
    t.is(r.exitCode, 0, r.stderr);
    t.regex(r.stdout, /^allowed\.test 200$/m);
    t.regex(r.stdout, /^outside\.test 403$/m);
    t.regex(r.stdout, /^other\.test 403$/m);
    t.regex(r.stderr, /refused allow entry outside\.test:8080 from project/);
    t.deepEqual(net.requests().slice(before), [HOSTS['allowed.test']]);
  });
}
