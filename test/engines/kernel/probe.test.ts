import test from 'ava';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { probeKernel } from '../../../src/engines/kernel/probe.js';
import type { CommandRunner } from '../../../src/exec/runner.js';
import { memoryLogger } from '../../../src/log/logger.js';

test('a shallow probe looks only: it starts no process', async (t) => {
  const exec: CommandRunner = {
    run: async (argv) => t.fail(`ran ${argv.join(' ')}`) as never,
  };
  const result = await probeKernel(
    { exec, log: memoryLogger(), env: { PATH: process.env.PATH }, cwd: '/' },
    { deep: false },
  );
  t.is(result.engine, 'kernel');
  t.true(result.checks.some((c) => c.name === 'privileges'));
  t.true(result.checks.some((c) => c.name === 'firewall'));
  for (const name of ['ip', 'unshare', 'setpriv']) {
    const check = result.checks.find((c) => c.name === name)!;
    t.is(check.ok, !!result.facts?.[name]);
  }
});

test('tools come from system directories, never from the job PATH', async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'fsbx-path-'));
  try {
    await writeFile(path.join(dir, 'nft'), '#!/bin/sh\nexit 0\n', {
      mode: 0o755,
    });
    const exec: CommandRunner = { run: async () => t.fail() as never };
    const result = await probeKernel(
      { exec, log: memoryLogger(), env: { PATH: dir }, cwd: '/' },
      { deep: false },
    );
    t.not(result.facts?.nft, path.join(dir, 'nft'));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a deep probe creates and removes one throw-away namespace', async (t) => {
  const calls: string[] = [];
  const exec: CommandRunner = {
    run: async (argv) => {
      calls.push(argv.slice(1).join(' '));
      return { exitCode: 0, stdout: '', stderr: '' };
    },
  };
  const result = await probeKernel(
    { exec, log: memoryLogger(), env: {}, cwd: '/' },
    { deep: true },
  );
  if (!result.checks.every((c) => c.name === 'netns' || c.ok)) {
    t.deepEqual(calls, [], 'no namespace without the prerequisites');
    return;
  }
  t.is(calls.length, 2);
  t.regex(calls[0]!, /^netns add fsbxprobe[0-9a-f]{8}$/);
  t.is(calls[1], calls[0]!.replace('add', 'del'));
  t.true(result.checks.find((c) => c.name === 'netns')!.ok);
});
