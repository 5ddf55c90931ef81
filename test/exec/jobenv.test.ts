import test from 'ava';
import { readFileSync } from 'node:fs';
import {
  commandEnv,
  launchEnv,
  LOADER_VARIABLES,
} from '../../src/exec/jobenv.js';

test('the launcher sets aside exactly the variables the controller lists', (t) => {
  const bin = readFileSync(
    new URL('../../../bin/flow-sandbox', import.meta.url),
    'utf8',
  );
  const loop = /for name in ([^;]*); do/.exec(bin);
  t.truthy(loop, 'bin/flow-sandbox lists the names in one for loop');
  const listed = loop![1]!.replace(/\\\n/g, ' ').split(/\s+/).filter(Boolean);
  t.deepEqual([...listed].sort(), [...LOADER_VARIABLES].sort());
});

test('set-aside variables reach the command under their own names, settings do not', (t) => {
  t.deepEqual(
    commandEnv({
      PATH: '/bin',
      FSBX_JOB_LD_PRELOAD: '/x.so',
      FLOW_SANDBOX_LOG_LEVEL: 'debug',
      GONE: undefined,
    }),
    { PATH: '/bin', LD_PRELOAD: '/x.so' },
  );
});

test('a privileged launch gets them under inert names, listed', (t) => {
  t.deepEqual(
    launchEnv({ PATH: '/bin', LD_PRELOAD: '/x.so', NODE_OPTIONS: '-r y' }),
    {
      PATH: '/bin',
      FSBX_JOB_NODE_OPTIONS: '-r y',
      FSBX_JOB_LD_PRELOAD: '/x.so',
      FSBX_JOB_NAMES: 'NODE_OPTIONS LD_PRELOAD',
    },
  );
  t.deepEqual(launchEnv({ PATH: '/bin' }), { PATH: '/bin' });
});
