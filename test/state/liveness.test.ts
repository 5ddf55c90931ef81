import test from 'ava';
import { spawn } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { ownerAlive, processStart } from '../../src/state/liveness.js';

test('a running process is alive; one started after the record is not its owner', (t) => {
  t.truthy(processStart(process.pid));
  t.true(ownerAlive(process.pid, new Date().toISOString()));
  t.false(ownerAlive(process.pid, new Date(0).toISOString()), 'a reused pid');
});

const linux = process.platform === 'linux';
const zombie =
  'a zombie is dead: it runs nothing, and its sandbox went with it';
(linux ? test : test.skip)(
  linux ? zombie : `${zombie} (skipped: needs Linux /proc)`,
  async (t) => {
    // `sleep 0` exits; the exec'd `sleep 5` never reaps it.
    const parent = spawn('sh', ['-c', 'sleep 0 & echo $!; exec sleep 5']);
    t.teardown(() => parent.kill('SIGKILL'));
    const pid = Number(
      await new Promise<string>((resolve) =>
        parent.stdout.once('data', (d: Buffer) => resolve(d.toString())),
      ),
    );
    for (let i = 0; i < 100 && processStart(pid) !== undefined; i++)
      await sleep(10);
    t.is(processStart(pid), undefined);
    t.false(ownerAlive(pid, new Date().toISOString()));
  },
);
