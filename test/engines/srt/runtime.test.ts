import test from 'ava';
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import {
  completeSettings,
  hiddenSocketsCheck,
} from '../../../src/engines/srt/runtime.js';
import type { SrtSettings } from '../../../src/engines/srt/settings.js';
import type { SocketPlan } from '../../../src/mounts/plan.js';

const planned: SrtSettings = {
  network: {
    allowedDomains: [],
    deniedDomains: [],
    deniedResolvedAddresses: [],
    strictAllowlist: true,
    allowUnixSockets: [],
    allowAllUnixSockets: true,
    allowLocalBinding: true,
  },
  filesystem: {
    denyRead: ['/root/.ssh'],
    allowWrite: [],
    denyWrite: [],
    allowGitConfig: false,
  },
};

/** A directory with a listening socket in it, removed after `body`. */
async function withSockets(
  names: string[],
  body: (dir: string) => Promise<void>,
): Promise<void> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'fsbx-runtime-'));
  const servers = await Promise.all(
    names.map(async (name) => {
      await mkdir(path.dirname(path.join(dir, name)), { recursive: true });
      const server = net.createServer();
      await new Promise<void>((resolve) =>
        server.listen(path.join(dir, name), resolve),
      );
      return server;
    }),
  );
  try {
    await body(dir);
  } finally {
    for (const server of servers) server.close();
    await rm(dir, { recursive: true, force: true });
  }
}

const plan = (dir: string, allowed: string[]): SocketPlan => ({
  hide: true,
  roots: [{ path: dir, depth: 3, required: true }],
  bound: false,
  allowed,
});

test('unlisted sockets found at start are masked; listed ones stay', async (t) => {
  await withSockets(
    ['docker.sock', 'other.sock', 'a/agent.sock'],
    async (dir) => {
      await writeFile(path.join(dir, 'a', 'notes.txt'), 'x');
      const { settings, mustHide } = await completeSettings(
        planned,
        dir,
        plan(dir, [path.join(dir, 'docker.sock')]),
      );
      // Beside the allowed socket and beside a file: each socket by itself.
      t.deepEqual(
        [...settings.filesystem.denyRead].sort(),
        [
          '/root/.ssh',
          path.join(dir, 'a/agent.sock'),
          path.join(dir, 'other.sock'),
        ].sort(),
      );
      t.deepEqual(mustHide, [
        path.join(dir, 'a/agent.sock'),
        path.join(dir, 'other.sock'),
      ]);
      t.deepEqual(
        planned.filesystem.denyRead,
        ['/root/.ssh'],
        'plan unchanged',
      );
    },
  );
});

// A container's shim socket lives as long as the container: masked one by
// one, a socket gone before bubblewrap starts would stop the run.
test('a directory of nothing but sockets to hide is masked whole', async (t) => {
  await withSockets(['s/shim1.sock', 's/shim2.sock'], async (dir) => {
    const { settings } = await completeSettings(planned, dir, plan(dir, []));
    t.deepEqual(settings.filesystem.denyRead, [
      '/root/.ssh',
      path.join(dir, 's'),
    ]);
  });
});

test('sockets inside a directory already denied are not listed twice', async (t) => {
  await withSockets(['secret/agent.sock'], async (dir) => {
    const denied = {
      ...planned,
      filesystem: {
        ...planned.filesystem,
        denyRead: [path.join(dir, 'secret')],
      },
    };
    const { settings } = await completeSettings(denied, dir, plan(dir, []));
    t.deepEqual(settings.filesystem.denyRead, [path.join(dir, 'secret')]);
  });
});

test('without a socket plan nothing is scanned', async (t) => {
  await withSockets(['x.sock'], async (dir) => {
    const { settings, mustHide } = await completeSettings(
      planned,
      dir,
      undefined,
    );
    t.deepEqual(settings.filesystem.denyRead, ['/root/.ssh']);
    t.deepEqual(mustHide, []);
  });
});

test('.git/modules is write-protected only where it exists', async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'fsbx-runtime-'));
  try {
    const before = await completeSettings(planned, dir, undefined);
    t.deepEqual(before.settings.filesystem.denyWrite, []);
    await mkdir(path.join(dir, '.git', 'modules'), { recursive: true });
    const after = await completeSettings(planned, dir, undefined);
    t.deepEqual(after.settings.filesystem.denyWrite, [
      path.join(dir, '.git', 'modules'),
    ]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('the in-sandbox check stops on a socket that is still one', async (t) => {
  t.is(hiddenSocketsCheck([]), '');
  await withSockets(["it's here.sock"], async (dir) => {
    const socket = path.join(dir, "it's here.sock");
    const run = (paths: string[]) => {
      try {
        execFileSync(
          '/bin/sh',
          ['-c', `${hiddenSocketsCheck(paths)} echo ready`],
          {
            stdio: 'pipe',
          },
        );
        return 0;
      } catch (error) {
        return (error as { status: number }).status;
      }
    };
    t.is(run([socket]), 125);
    t.is(run([path.join(dir, 'gone.sock')]), 0);
  });
});
