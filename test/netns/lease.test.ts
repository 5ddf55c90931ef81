import test from 'ava';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
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

test('the last run removes the empty pool; the next one makes it again', async (t) => {
  const { removeEmptyPool } = await import('../../src/netns/lease.js');
  const { withLock } = await import('../../src/netns/lock.js');
  const base = await mkdtemp(path.join(os.tmpdir(), 'fsbx-lease-'));
  const poolDir = path.join(base, 'pool');
  try {
    const one = await claimSlot({
      poolDir,
      pool: tinyPool,
      runId: 'a',
      routes: [],
    });
    const two = await claimSlot({
      poolDir,
      pool: tinyPool,
      runId: 'b',
      routes: [],
    });
    await releaseSlot(one);
    await removeEmptyPool(poolDir);
    t.deepEqual(
      await readdir(poolDir),
      [`${two.subnet.slot}.lease`],
      'kept while in use',
    );
    await releaseSlot(two);
    await removeEmptyPool(poolDir);
    t.deepEqual(await readdir(base), []);
    t.is(
      await withLock(path.join(poolDir, 'x.lock'), async () => 'locked'),
      'locked',
    );
    await claimSlot({ poolDir, pool: tinyPool, runId: 'c', routes: [] });
    t.is((await readdir(poolDir)).length, 1);
  } finally {
    await rm(base, { recursive: true, force: true });
  }
});

test("a run's leases are found by its run id and released; others stay", async (t) => {
  const { releaseRunSlots } = await import('../../src/netns/lease.js');
  const poolDir = await mkdtemp(path.join(os.tmpdir(), 'fsbx-lease-'));
  try {
    for (const runId of ['a', 'b']) {
      await claimSlot({ poolDir, pool: tinyPool, runId, routes: [] });
    }
    // Not a lease this version writes (they are linked whole into place);
    // slot 99 lies outside the tiny pool, so no claim above can be it.
    await writeFile(path.join(poolDir, '99.lease'), '');
    // The claim of a run killed before it linked it to a slot.
    await writeFile(path.join(poolDir, '.claim-a'), '{"runId":"a"}');
    await releaseRunSlots(poolDir, 'a');
    const left = await readdir(poolDir);
    t.is(left.length, 2);
    t.true(left.includes('99.lease'));
    await releaseRunSlots(poolDir, 'b');
    t.deepEqual(await readdir(poolDir), ['99.lease']);
  } finally {
    await rm(poolDir, { recursive: true, force: true });
  }
});
