import test from 'ava';
import { hiddenStatePaths } from '../../../src/engines/srt/engine.js';
import { shellArgs } from '../../../src/engines/srt/launch.js';
import type { PlanInput } from '../../../src/engines/types.js';
import { defaultPolicy } from '../../../src/policy/defaults.js';

function input(stateDir: string, cwd = '/builds/p'): PlanInput {
  return {
    runId: 'abcd1234',
    policy: defaultPolicy(
      { CI_SERVER_HOST: 'gitlab.test' },
      {
        home: '/home/job',
        cwd,
      },
    ),
    command: { argv: ['true'], cwd, env: {} },
    stateDir,
    probe: { engine: 'srt', usable: true, checks: [] },
  };
}

// A concurrent run's settings sat next to this run's, readable from inside
// (escape suite, case esc-state-other-run).
test('the whole state root is hidden, not only this run’s directory, and every SRT run’s sockets', (t) => {
  t.deepEqual(hiddenStatePaths(input('/run/flow-sandbox/abcd1234')), [
    '/run/flow-sandbox',
    '/run/flow-sandbox-srt',
  ]);
});

test('a state root that holds a writable path hides only the run directory', (t) => {
  t.deepEqual(hiddenStatePaths(input('/builds/abcd1234')), [
    '/builds/abcd1234',
    '/builds-srt',
  ]);
  t.deepEqual(hiddenStatePaths(input('/abcd1234', '/work')), ['/abcd1234']);
  t.deepEqual(hiddenStatePaths(input('/tmp/fs/abcd1234')), [
    '/tmp/fs',
    '/tmp/fs-srt',
  ]);
});

// Without exec, `sh -c` stood between the controller and bubblewrap, so a
// controller killed with SIGKILL left the sandboxed command running
// (escape suite, test "SIGKILL of the controller").
test('bubblewrap replaces the shell, so it dies with the controller', (t) => {
  t.deepEqual(shellArgs("/usr/bin/bwrap --die-with-parent -- sh -c 'x'"), [
    '-c',
    "exec /usr/bin/bwrap --die-with-parent -- sh -c 'x'",
  ]);
});
