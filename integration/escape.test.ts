// The escape suite (integration/cases/escape*.ts) against every engine, in
// the private test network. Root only; an engine that is not in this build
// or cannot run here is skipped with the reason.
//   npx ava dist/integration/escape.test.js                 # srt and kernel
//   FSBXT_ESCAPE_ENGINES=srt npx ava dist/integration/escape.test.js
//   FSBXT_ESCAPE_STRICT=1 ...   # also fail on open escapes (failsOpen gaps)
//   FSBXT_ESCAPE_VERBOSE=1 ...  # log what every case saw
// How long a sandbox lives is tested in escape-lifetime.test.ts.
import test, { type ExecutionContext } from 'ava';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { secretFor } from '../scripts/testnet/files.js';
import { ESCAPE_CASES } from './cases/escape.js';
import { MARKERS } from './cases/escape-types.js';
import type { EngineName } from './cases.js';
import { sleeperAlive, startBackgroundRun } from './escape-background.js';
import {
  engineOptions,
  engineSkipReason,
  judgeEscapes,
  requestedEngines,
  runEscapeFlow,
} from './escape-run.js';
import { setUpEscapeWorld, type EscapeWorld } from './escape-setup.js';
import { useTestnet } from './fixture.js';
import {
  baselineCases,
  failures,
  formatTable,
  leakedNames,
  type CaseResult,
} from './flow.js';
import {
  jobEnv,
  listing,
  sandboxWrap,
  stateDirOf,
  tmpLeftovers,
} from './sandbox-run.js';
import { inContainer, rootSkipReason } from './skip.js';

const skip = rootSkipReason([
  'node',
  'script',
  'ssh-agent',
  'ssh-add',
  'ssh-keygen',
]);
const STRICT = process.env.FSBXT_ESCAPE_STRICT === '1';
/** FSBXT_ESCAPE_VERBOSE=1 logs what every case saw, not only the verdicts. */
const VERBOSE = process.env.FSBXT_ESCAPE_VERBOSE === '1';

/** Logs the table and every open escape; returns the open ones. */
function report(
  t: ExecutionContext,
  rows: readonly CaseResult[],
  engine: EngineName,
) {
  t.log(`\n${formatTable(rows)}`);
  if (VERBOSE) for (const r of rows) t.log(`${r.case.id}: ${r.detail}`);
  const open = rows.filter((r) => r.gap && r.case.gaps?.[engine]?.failsOpen);
  for (const r of open) {
    t.log(
      `OPEN ESCAPE under ${engine}: ${r.case.id}: ${r.case.gaps?.[engine]?.why}`,
    );
  }
  return open.map((r) => `${r.case.id} (fails open under ${engine})`);
}

if (skip) {
  test.skip(`escape suite (${skip})`, () => {});
} else {
  let world: EscapeWorld | undefined;
  const { net: nett, start } = useTestnet(test, {
    prepare: async (net) => {
      world = await setUpEscapeWorld(net);
    },
    cleanup: async () => world?.stop(),
  });
  const flowEnv = () => ({ ...jobEnv(nett()), ...world!.env });

  test.serial(
    'baseline: without a sandbox every escape gets through',
    async (t) => {
      t.timeout(600_000);
      const cases = baselineCases(ESCAPE_CASES);
      const { result, observations, mark } = await runEscapeFlow(nett(), {
        cases,
        wrap: [],
        env: flowEnv(),
        casesDir: path.join(nett().paths.base, 'escape-cases-baseline'),
      });
      const rows = await judgeEscapes(
        nett(),
        cases,
        observations,
        'baseline',
        flowEnv(),
        mark,
      );
      t.log(`\n${formatTable(rows)}`);
      // Only the container's own refusal is excused, and only in one.
      const excused = inContainer()
        ? rows.filter(
            (r) => !r.ok && r.observed === 'refused' && r.case.containerRefuses,
          )
        : [];
      for (const r of excused) {
        t.log(
          `${r.case.id}: refused without a sandbox in this container: ${r.case.containerRefuses}; an engine's refusal of it proves nothing here`,
        );
      }
      const rest = rows.filter((r) => !excused.includes(r));
      t.deepEqual(failures(rest), [], result.stderr.slice(-4000));
    },
  );

  for (const engine of requestedEngines()) {
    const why = engineSkipReason(engine);
    if (why) {
      test.skip(`${engine}: escape suite (${why})`, () => {});
      continue;
    }
    const options = () => engineOptions(engine, world!.configFile);

    test.serial(
      `${engine}: every escape attempt gets its verdict`,
      async (t) => {
        t.timeout(900_000);
        // Another job's run next to this one: its state must stay out of reach.
        const other = await startBackgroundRun(
          nett(),
          options(),
          MARKERS.concurrent,
          world!.env,
        );
        const asked = (await nett().dnsQueries()).length;
        // Case esc-write-prelinked-hardlink needs the link as the runner left it.
        const outsideFile = await world!.relinkOutside();
        try {
          const { result, observations, mark } = await runEscapeFlow(nett(), {
            cases: ESCAPE_CASES,
            wrap: sandboxWrap(options()),
            env: flowEnv(),
            casesDir: path.join(nett().paths.base, `escape-cases-${engine}`),
          });
          const rows = await judgeEscapes(
            nett(),
            ESCAPE_CASES,
            observations,
            engine,
            flowEnv(),
            mark,
          );
          const open = report(t, rows, engine);
          t.is(result.exitCode, 0, result.stderr.slice(-4000));
          t.is(
            (await stat(outsideFile)).nlink,
            1,
            'the checkout got a copy of its own of the file linked in from outside',
          );
          t.regex(result.stderr, /hard-linked from outside them/);
          t.deepEqual(failures(rows), []);
          const during = (await nett().dnsQueries()).slice(asked);
          t.deepEqual(
            leakedNames(ESCAPE_CASES, during),
            [],
            'refused names reached the DNS server',
          );
          if (STRICT)
            t.deepEqual(open, [], 'open escapes (FSBXT_ESCAPE_STRICT=1)');
        } finally {
          process.kill(other.controller, 'SIGTERM');
          await other.done;
        }
        t.false(
          await sleeperAlive(MARKERS.concurrent),
          'the concurrent run ended',
        );
      },
    );
  }

  test.serial('the SSH key is unchanged and no leftovers remain', async (t) => {
    await world?.stop();
    const key = await readFile(
      path.join(nett().paths.home, '.ssh', 'id_rsa'),
      'utf8',
    );
    t.regex(key, new RegExp(secretFor(nett().id)));
    t.deepEqual(await listing(path.join(nett().paths.home, '.ssh')), [
      'id_rsa',
    ]);
    t.deepEqual(await nett().differences(start(), await nett().snapshot()), []);
    t.deepEqual(await tmpLeftovers(nett()), [], 'nothing left in /tmp');
    // kernel-pool is the address pool runs share (leases come and go in it).
    const pool = path.join(stateDirOf(nett()), 'kernel-pool');
    t.deepEqual(
      (await listing(stateDirOf(nett()))).filter((e) => e !== 'kernel-pool'),
      [],
      'no run state left',
    );
    t.deepEqual(
      (await listing(pool)).filter((e) => e.endsWith('.lease')),
      [],
      'no address lease left',
    );
  });
}
