import test from 'ava';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { claimSlot, releaseSlot } from '../../src/netns/lease.js';
import { DEFAULT_POOL } from '../../src/netns/pool.js';

const tinyPool = { v4: '10.217.0.0/26', v6: DEFAULT_POOL.v6 };

test('concurrent claims never get the same slot', async (t) => {
  const poolDir = await mkdtemp(path.join(os.tmpdir(), 'fsbx-lease-'));
  try {
    const claims = await Promise.all(
      Array.from({ length: 16 }, (_, i) =>
        claimSlot({ poolDir, pool: tinyPool, runId: `run${i}`, routes: [] }),
      ),
    );
    const slots = claims.map((c) => c.subnet.slot);
    t.is(new Set(slots).size, 16);
    await t.throwsAsync(
      claimSlot({ poolDir, pool: tinyPool, runId: 'one-too-many', routes: [] }),
      { message: /no free subnet .* 16 slots, 16 leased/ },
    );
    await releaseSlot(claims[0]!);
    await releaseSlot(claims[0]!);
    const again = await claimSlot({
      poolDir,
      pool: tinyPool,
      runId: 'again',
      routes: [],
    });
    t.is(again.subnet.slot, claims[0]!.subnet.slot);
  } finally {
    await rm(poolDir, { recursive: true, force: true });
  }
});

test('slots the runner already routes are skipped', async (t) => {
  const poolDir = await mkdtemp(path.join(os.tmpdir(), 'fsbx-lease-'));
  try {
    const routes = Array.from({ length: 15 }, (_, i) => ({
      family: 4 as const,
      cidr: `10.217.0.${i * 4}/30`,
    }));
    const lease = await claimSlot({
      poolDir,
      pool: tinyPool,
      runId: 'r',
      routes,
    });
    t.is(lease.subnet.slot, 15);
    t.deepEqual(await readdir(poolDir), ['15.lease']);
  } finally {
    await rm(poolDir, { recursive: true, force: true });
  }
});
