// Escape by outliving: no process started inside the sandbox may survive
// the run, whether the controller is killed with SIGKILL or the command
// stops the sandbox's init on its way out. Per engine, in the private test
// network; root only, skipped with the reason elsewhere.
import test from 'ava';
import { MARKERS } from './cases/escape-types.js';
import {
  controllerPid,
  sleeper,
  startBackgroundRun,
  waitFor,
} from './escape-background.js';
import {
  engineLeftovers,
  killMarked,
  pidsMarked,
  removeEngineLeftovers,
} from './escape-checks.js';
import {
  engineOptions,
  engineSkipReason,
  requestedEngines,
} from './escape-run.js';
import { useTestnet } from './fixture.js';
import {
  FLOW_SANDBOX,
  jobEnv,
  listing,
  runSandboxed,
  stateDirOf,
  tmpLeftovers,
} from './sandbox-run.js';
import { rootSkipReason } from './skip.js';

const skip = rootSkipReason(['node']);

// PTRACE_ATTACH (16) stops the sandbox's pid 1; the tracer then exits and
// leaves it stopped. A child started in the background should die with
// the command's end, as it does when pid 1 is left alone.
const STOP_INIT = `python3 -c 'import ctypes; ctypes.CDLL(None).ptrace(16, 1, 0, 0)'`;

if (skip) {
  test.skip(`escape by outliving the run (${skip})`, () => {});
} else {
  const { net: nett, start } = useTestnet(test);

  for (const engine of requestedEngines()) {
    const why = engineSkipReason(engine);
    if (why) {
      test.skip(`${engine}: escape by outliving the run (${why})`, () => {});
      continue;
    }

    test.serial(
      `${engine}: a controller killed with SIGKILL leaves no process of the sandbox alive`,
      async (t) => {
        t.timeout(120_000);
        const marker = `${MARKERS.survivor}-killed-${engine}`;
        const before = await engineLeftovers(nett());
        const run = await startBackgroundRun(
          nett(),
          engineOptions(engine),
          marker,
        );
        process.kill(run.controller, 'SIGKILL');
        const gone = await waitFor(
          async () => (await pidsMarked(marker)).length === 0,
          5000,
        );
        const left = await pidsMarked(marker);
        // Whatever survived holds the run's output pipes: end it first.
        await killMarked(marker);
        await run.done;
        t.true(
          gone,
          `still alive after the controller died: ${left.join(' ')}`,
        );
        t.is(await controllerPid(marker), undefined);
        // What the killed controller left outside the sandbox (SRT's
        // host-side socat bridge and sockets, kernel objects, the run's
        // state) is `flow-sandbox cleanup`'s to remove, completely.
        const cleanup = await nett().exec([FLOW_SANDBOX, 'cleanup'], {
          env: jobEnv(nett()),
        });
        t.is(cleanup.exitCode, 0, cleanup.stderr);
        t.regex(cleanup.stderr, /removed 1 dead run/);
        t.deepEqual(
          await removeEngineLeftovers(nett(), before),
          [],
          'flow-sandbox cleanup left these behind',
        );
        t.deepEqual(
          await nett().differences(start(), await nett().snapshot()),
          [],
        );
      },
    );

    // Under SRT the command can stop bubblewrap's init (same user); the
    // controller then ends the sandbox once the command has ended.
    test.serial(
      `${engine}: the run ends when the command ends, even after the command stopped the sandbox's init`,
      async (t) => {
        t.timeout(120_000);
        const marker = `${MARKERS.survivor}-held-${engine}`;
        const background = sleeper(marker)
          .map((a) => `'${a}'`)
          .join(' ');
        const done = runSandboxed(nett(), engineOptions(engine), [
          'sh',
          '-c',
          `${STOP_INIT}; ${background} >/dev/null 2>&1 & exit 3`,
        ]);
        let ended = false;
        void done.then(() => (ended = true));
        const inTime = await waitFor(async () => ended, 20_000);
        const alive = await pidsMarked(marker);
        if (!inTime) {
          // End the held run the way a cancelled job would.
          const controller = await controllerPid(marker);
          if (controller !== undefined) process.kill(controller, 'SIGTERM');
        }
        const result = await done;
        await killMarked(marker);
        t.true(
          inTime,
          `the run was still going 20 s after the command ended (${alive.length} sandbox processes)`,
        );
        // The command's own status, where the kernel still held it (the
        // stopped init had not reaped the command); else the kill's, said so.
        if (engine === 'srt' && result.exitCode === 137) {
          t.regex(result.stderr, /exit status went with the stopped init/);
        } else {
          t.is(result.exitCode, 3, result.stderr);
        }
      },
    );
  }

  test.serial('no leftovers in the runner namespace', async (t) => {
    t.deepEqual(await nett().differences(start(), await nett().snapshot()), []);
    t.deepEqual(await tmpLeftovers(nett()), [], 'nothing left in /tmp');
    // kernel-pool is the address pool runs share, not a run's state.
    t.deepEqual(
      (await listing(stateDirOf(nett()))).filter((e) => e !== 'kernel-pool'),
      [],
      'no run state left',
    );
  });
}
