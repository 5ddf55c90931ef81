import test from 'ava';
import { execa } from 'execa';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { engineByName } from '../../src/engines/select.js';
import {
  ALL_SETUP_STEPS,
  KERNEL_SETUP_STEPS,
  SRT_SETUP_STEPS,
} from '../../src/engines/steps.js';
import { faultHook } from '../../src/state/faults.js';

test('without the test-only variables there is no hook', (t) => {
  t.is(faultHook({}), undefined);
  t.is(faultHook({ FLOW_SANDBOX_TEST_KILL_AT: '' }), undefined);
});

test('an unknown step is refused, with the steps there are', (t) => {
  const error = t.throws(() =>
    faultHook({ FLOW_SANDBOX_TEST_KILL_AT: 'kernel-nets' }),
  );
  t.regex(
    error.message,
    /FLOW_SANDBOX_TEST_KILL_AT: "kernel-nets" is not accepted/,
  );
  t.regex(error.message, /kernel-netns/);
});

test('each engine reports its own steps, and no step has two names', (t) => {
  t.deepEqual(engineByName('srt').setupSteps, SRT_SETUP_STEPS);
  t.deepEqual(engineByName('kernel').setupSteps, KERNEL_SETUP_STEPS);
  t.deepEqual(engineByName('none').setupSteps, []);
  t.is(new Set(ALL_SETUP_STEPS).size, ALL_SETUP_STEPS.length);
});

test('the hook logs every step, and kills the process at the named one', async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), 'fsbx-faults-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const log = path.join(dir, 'steps.log');
  const module = new URL('../../src/state/faults.js', import.meta.url).href;
  const script = `
    const { faultHook } = await import(${JSON.stringify(module)});
    const reached = faultHook(process.env);
    for (const step of ['state-dir', 'kernel-record', 'kernel-lease']) {
      reached(step);
      console.log('after ' + step);
    }`;
  const result = await execa(
    process.execPath,
    ['--input-type=module', '-e', script],
    {
      env: {
        FLOW_SANDBOX_TEST_KILL_AT: 'kernel-record',
        FLOW_SANDBOX_TEST_STEP_LOG: log,
      },
      reject: false,
    },
  );
  t.is(result.signal, 'SIGKILL');
  t.is(result.stdout, 'after state-dir');
  t.is(await readFile(log, 'utf8'), 'state-dir\nkernel-record\n');
});
