// `--engine auto` with and without SRT, on the shared verdict table, in
// one private test network: with bubblewrap it picks SRT; with bubblewrap
// hidden from PATH (a runner without it) it falls back to the kernel
// engine and the job log says why; and the table comes out the same both
// ways, case by case (each engine's documented gaps aside). This is
// `make demo` against `make demo-kernel`. Root only.
import test from 'ava';
import { CASES } from './cases.js';
import {
  chosenEngine,
  compareCases,
  formatTable,
  runFlow,
  tableDifferences,
} from './flow.js';
import { useTestnet } from './fixture.js';
import { kernelSkipReason } from './kernel/skip.js';
import {
  jobEnv,
  listing,
  pathWithout,
  sandboxWrap,
  stateDirOf,
  tmpLeftovers,
} from './sandbox-run.js';
import { rootSkipReason } from './skip.js';

const skip =
  rootSkipReason(['bwrap', 'socat', 'rg', 'node']) ?? kernelSkipReason('nft');

if (skip) {
  // Reported as skipped, with the reason, never as passed.
  test.skip(`auto with and without SRT (${skip})`, () => {});
} else {
  const { net, start } = useTestnet(test);

  test.serial(
    'auto picks srt with bubblewrap, kernel without it, and the verdict table is the same',
    async (t) => {
      const withSrt = await runFlow(net(), {
        cases: CASES,
        wrap: sandboxWrap(['--force-sandbox']),
        env: jobEnv(net()),
      });
      const withoutSrt = await runFlow(net(), {
        cases: CASES,
        wrap: sandboxWrap(['--force-sandbox']),
        env: { ...jobEnv(net()), PATH: await pathWithout(net(), ['bwrap']) },
      });
      t.is(withSrt.result.exitCode, 0, withSrt.result.stderr);
      t.is(withoutSrt.result.exitCode, 0, withoutSrt.result.stderr);
      t.is(chosenEngine(withSrt.result.stderr), 'srt');
      t.is(chosenEngine(withoutSrt.result.stderr), 'kernel');
      t.regex(
        withoutSrt.result.stderr,
        /\] engine: kernel: first usable engine in order srt, kernel, none \(srt: bwrap not found/,
      );
      t.notRegex(withoutSrt.result.stderr, /SANDBOX COULD NOT BE APPLIED/);

      const srt = compareCases(CASES, withSrt.observations, 'srt');
      const kernel = compareCases(CASES, withoutSrt.observations, 'kernel');
      t.log(`\nauto, SRT available (srt):\n${formatTable(srt)}`);
      t.log(`\nauto, SRT unavailable (kernel):\n${formatTable(kernel)}`);
      t.deepEqual(
        tableDifferences(
          { engine: 'srt', rows: srt },
          { engine: 'kernel', rows: kernel },
        ),
        [],
      );
      // Where the observations differ, it is an engine's documented gap.
      for (const [i, row] of srt.entries()) {
        const other = kernel[i]!.observed;
        if (row.observed === other) continue;
        const gap = row.case.gaps?.srt ?? row.case.gaps?.kernel;
        t.log(
          `${row.case.id}: srt ${row.observed}, kernel ${other}: ${gap?.why}`,
        );
      }
    },
  );

  test.serial(
    'no leftovers: the runner namespace is as it was before the tests',
    async (t) => {
      const now = await net().snapshot();
      t.deepEqual(await net().differences(start(), now), []);
      t.deepEqual(await tmpLeftovers(net()), [], 'nothing left in /tmp');
      t.deepEqual(await listing(stateDirOf(net())), [], 'no run state left');
    },
  );
}
