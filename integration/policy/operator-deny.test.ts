// Operator denials at run time, with SRT in the private test network: a
// project entry that overlaps one is refused at merge time, and an address
// denial holds for a name that resolves to it. Root only.
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import test from 'ava';
import { OUTSIDE4, OUTSIDE6 } from '../../scripts/testnet/topology.js';
import { writeConfig } from '../../test/helpers/git.js';
import { useTestnet } from '../fixture.js';
import { rootSkipReason } from '../skip.js';
import { outsideRequests, runIn, statusFlow } from './net.js';

const skip = rootSkipReason(['bwrap', 'socat', 'rg', 'node']);

if (skip) {
  test.skip(`operator denials at run time (${skip})`, () => {});
} else {
  const { net } = useTestnet(test);

  test('flexible operator: project and flag entries win nothing against operator denials', async (t) => {
    const dir = path.join(net().paths.base, 'opdeny-project');
    await mkdir(dir, { recursive: true });
    const op = path.join(dir, 'operator.yml');
    // outside.test by name; evil.test only through its addresses, which
    // the merge cannot see: SRT refuses the name once it resolves there.
    // Both families: a name with a surviving address is dialled there.
    await writeFile(
      op,
      `mode: flexible\ndenied_domains: ["outside.test", "${OUTSIDE4}", "${OUTSIDE6}"]\n`,
    );
    await writeConfig(
      dir,
      'network_policy:\n  allowed_domains: ["outside.test:80"]\n',
    );
    const r = await runIn(
      net(),
      dir,
      [
        '--engine',
        'srt',
        '--force-sandbox',
        '--operator-policy',
        op,
        '--allow',
        'evil.test:80',
      ],
      statusFlow(['gitlab.test', 'outside.test', 'evil.test']),
    );
    t.is(r.exitCode, 0, r.stderr);
    t.regex(r.stdout, /^gitlab\.test 200$/m);
    t.regex(r.stdout, /^outside\.test 403$/m);
    t.regex(r.stdout, /^evil\.test 403$/m);
    t.regex(r.stderr, /refused allow entry outside\.test:80 from project/);
    t.deepEqual(await outsideRequests(net()), []);
  });
}
