// Teardown: after a normal exit, a failing command, a failed setup, SIGTERM
// and SIGINT, nothing of the run is left (namespace, links, firewall,
// forwarding, lease, state). Run for both firewall backends.
import test from 'ava';
import { kernelSkipReason } from './kernel/skip.js';
import { Testbed } from './kernel/testbed.js';

const testbed = new Testbed();
const anySkip = kernelSkipReason();

if (!anySkip) {
  test.before(async () => testbed.start());
  test.after.always(async () => testbed.stop());
}

for (const firewall of ['nft', 'iptables'] as const) {
  const skip = kernelSkipReason(firewall);
  const it = skip ? test.serial.skip : test.serial;
  const title = (name: string) =>
    `${firewall}: ${name}${skip ? ` (skipped: ${skip})` : ''}`;

  it(
    title(
      'a normal exit and a failing command leave nothing, and keep their status',
    ),
    async (t) => {
      for (const [script, status] of [
        ['curl -sSf -m 3 http://gitlab.test/ >/dev/null', 0],
        ['exit 3', 3],
      ] as const) {
        const config = testbed.runConfig({
          firewall,
          argv: ['sh', '-c', script],
        });
        const result = await testbed.launch(config);
        t.is(result.exitCode, status, result.stderr);
        t.deepEqual(await testbed.leftovers(config), []);
      }
    },
  );

  it(title('a setup that fails leaves nothing and runs nothing'), async (t) => {
    const config = testbed.runConfig({
      firewall,
      argv: ['sh', '-c', 'echo ran'],
      cwd: '/nonexistent/fsbx',
    });
    const result = await testbed.launch(config);
    t.is(result.exitCode, 125);
    t.false(result.stdout.includes('ran'));
    t.regex(
      result.stderr,
      /ENGINE_UNAVAILABLE|could not be set up|cannot start/,
    );
    t.deepEqual(await testbed.leftovers(config), []);
  });

  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    it(
      title(`${signal} to the controller ends the command and leaves nothing`),
      async (t) => {
        const config = testbed.runConfig({
          firewall,
          argv: [
            'sh',
            '-c',
            'trap "echo got-signal; exit 7" TERM INT; echo started; sleep 30 & wait',
          ],
        });
        const run = testbed.launch(config);
        await new Promise<void>((resolve, reject) => {
          run.stdout!.on(
            'data',
            (data: Buffer) => data.toString().includes('started') && resolve(),
          );
          setTimeout(
            () => reject(new Error('the command did not start')),
            20_000,
          );
        });
        const sent = Date.now();
        run.kill(signal);
        const result = await run;
        t.is(result.exitCode, signal === 'SIGTERM' ? 143 : 130, result.stderr);
        t.true(
          result.stdout.includes('got-signal'),
          'the command got the signal',
        );
        t.true(Date.now() - sent < 5_000, `took ${Date.now() - sent} ms`);
        t.deepEqual(await testbed.leftovers(config), []);
      },
    );
  }
}

for (const firewall of ['nft', 'iptables'] as const) {
  const killSkip = kernelSkipReason(firewall);
  (killSkip ? test.serial.skip : test.serial)(
    `${firewall}: a controller killed with SIGKILL leaves a record, and the next run's sweep cleans it up${killSkip ? ` (skipped: ${killSkip})` : ''}`,
    async (t) => {
      const killed = testbed.runConfig({
        firewall,
        argv: ['sh', '-c', 'echo started; sleep 30'],
      });
      const run = testbed.launch(killed);
      await new Promise<void>((resolve) =>
        run.stdout!.on(
          'data',
          (d: Buffer) => d.toString().includes('started') && resolve(),
        ),
      );
      run.kill('SIGKILL');
      await run;
      const left = await testbed.leftovers(killed);
      t.true(left.includes(`netns fsbx${killed.runId}`), left.join('; '));
      t.true(left.includes('state record'));

      const next = testbed.runConfig({ firewall, argv: ['true'] });
      const result = await testbed.launch(next);
      t.is(result.exitCode, 0, result.stderr);
      t.deepEqual(await testbed.leftovers(killed), []);
      t.deepEqual(await testbed.leftovers(next), []);
    },
  );
}

if (anySkip)
  test.skip(`kernel engine teardown tests (skipped: ${anySkip})`, () => {});
