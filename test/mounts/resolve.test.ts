import test from 'ava';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { MountPlan } from '../../src/mounts/plan.js';
import { resolveMounts } from '../../src/mounts/resolve.js';

test('missing optional paths are dropped, hidden paths get tmpfs or /dev/null, stray sockets are found', async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'fsbx-resolve-'));
  const servers: net.Server[] = [];
  const listen = async (p: string) => {
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(p, resolve));
    servers.push(server);
  };
  try {
    await mkdir(path.join(dir, 'home/.ssh'), { recursive: true });
    await mkdir(path.join(dir, 'run/sub'), { recursive: true });
    await writeFile(path.join(dir, 'home/.netrc'), 'x');
    await listen(path.join(dir, 'run/docker.sock'));
    await listen(path.join(dir, 'run/sub/agent.sock'));
    await listen(path.join(dir, 'home/.ssh/agent.sock'));
    await listen(path.join(dir, 'home/agent.sock'));
    const plan: MountPlan = {
      readOnlyRoot: true,
      steps: [
        {
          kind: 'hide',
          path: path.join(dir, 'home/.ssh'),
          why: 'ssh',
          optional: true,
        },
        {
          kind: 'hide',
          path: path.join(dir, 'home/.ssh/inner'),
          why: 'inside a hidden dir',
          optional: true,
        },
        {
          kind: 'hide',
          path: path.join(dir, 'home/.netrc'),
          why: 'file',
          optional: true,
        },
        {
          kind: 'hide',
          path: path.join(dir, 'home/.missing'),
          why: 'missing',
          optional: true,
        },
        {
          kind: 'file',
          source: path.join(dir, 'run'),
          target: path.join(dir, 'home/.netrc'),
          why: 'file',
        },
      ],
      sockets: {
        hide: true,
        roots: [
          { path: path.join(dir, 'run'), depth: 3, required: true },
          { path: path.join(dir, 'home'), depth: 3, required: false },
        ],
        bound: false,
        allowed: [path.join(dir, 'run/docker.sock')],
      },
    };
    const { view, sockets, mustHide } = await resolveMounts(plan);
    t.deepEqual(
      view.map((s) =>
        s.kind === 'hide'
          ? `${path.relative(dir, s.path)} ${s.isDirectory ? 'dir' : 'file'}`
          : s.kind,
      ),
      ['home/.ssh dir', 'home/.netrc file', 'file'],
    );
    t.deepEqual(
      sockets.map((s) => path.relative(dir, (s as { path: string }).path)),
      ['run/sub/agent.sock', 'home/agent.sock'],
    );
    t.deepEqual(
      mustHide.map((p) => path.relative(dir, p)),
      ['run/sub/agent.sock'],
      'a daemon socket under a required root is checked after masking',
    );
    await t.throwsAsync(
      resolveMounts({
        ...plan,
        steps: [
          {
            kind: 'file',
            source: 'x',
            target: path.join(dir, 'nope'),
            why: '',
          },
        ],
      }),
      { message: /does not exist or is a dangling symlink/ },
    );
  } finally {
    servers.forEach((s) => s.close());
    await rm(dir, { recursive: true, force: true });
  }
});
