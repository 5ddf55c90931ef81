import test from 'ava';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import {
  exitStatusOf,
  sandboxCommand,
  sandboxHeld,
} from '../../../src/engines/srt/held.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * A process that never reaps its child: the shell starts `child`, then
 * becomes `sleep`, so the child ends as a zombie with its status kept.
 */
async function withZombie(
  child: string,
  body: (parent: number, zombie: number) => void | Promise<void>,
): Promise<void> {
  const parent = spawn('/bin/sh', ['-c', `${child} & exec sleep 5`]);
  try {
    let zombie: number | undefined;
    for (let i = 0; i < 50 && zombie === undefined; i++) {
      await sleep(50);
      const [pid] = readFileSync(
        `/proc/${parent.pid}/task/${parent.pid}/children`,
        'utf8',
      )
        .split(' ')
        .filter(Boolean)
        .map(Number);
      if (pid && readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z '))
        zombie = pid;
    }
    if (zombie === undefined) throw new Error('no zombie appeared');
    await body(parent.pid!, zombie);
  } finally {
    parent.kill('SIGKILL');
  }
}

test('a zombie’s exit status reads as a shell reports it', async (t) => {
  await withZombie('(exit 7)', (_, zombie) => {
    t.is(exitStatusOf(zombie), 7);
  });
  await withZombie("sh -c 'kill -TERM $$'", (_, zombie) => {
    t.is(exitStatusOf(zombie), 128 + 15);
  });
});

test('a sandbox is held only when its init is stopped and its command ended', async (t) => {
  let parent = 0;
  let zombie = 0;
  await withZombie('(exit 0)', async (p, z) => {
    [parent, zombie] = [p, z];
    // `parent` plays the init here: running, so nothing is held.
    t.false(sandboxHeld({ init: parent, command: zombie }));
    process.kill(parent, 'SIGSTOP');
    let held = false;
    for (let i = 0; i < 40 && !held; i++) {
      await sleep(25);
      held = sandboxHeld({ init: parent, command: zombie });
    }
    t.true(held);
    process.kill(parent, 'SIGCONT');
  });
  t.false(sandboxHeld({ init: process.pid, command: process.pid }));
});

test('the command is found below the outer process and its init', async (t) => {
  const outer = spawn('/bin/sh', ['-c', 'sh -c "sleep 5 & wait" & wait']);
  try {
    let tree: ReturnType<typeof sandboxCommand>;
    for (let i = 0; i < 50 && !tree; i++) {
      await sleep(50);
      tree = sandboxCommand(outer.pid!);
    }
    t.truthy(tree);
    t.true(
      readFileSync(`/proc/${tree!.command}/cmdline`, 'utf8').startsWith(
        'sleep',
      ),
    );
  } finally {
    outer.kill('SIGKILL');
  }
});
