import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import test from 'ava';
import { SandboxError } from '../../src/errors.js';
import { formatRule } from '../../src/policy/types.js';
import { loadRecommended } from '../../src/policy/recommended.js';
import { allowed, merged, refusedRaw } from './helpers.js';

test('the shipped list parses, and every entry says what it is for and has a port', async (t) => {
  const rules = await loadRecommended('test');
  t.true(rules.length >= 25);
  for (const rule of rules) {
    t.is(rule.source.kind, 'recommended');
    t.regex(
      rule.source.origin,
      /^recommended allowlist \(.+\), asked for by test$/,
    );
    t.not(rule.port, undefined, `${rule.raw} is pinned to a port`);
  }
});

test('the shipped list names the registries flows need', async (t) => {
  const entries = (await loadRecommended('test')).map(formatRule);
  for (const needed of [
    'registry.npmjs.org:443',
    'pypi.org:443',
    'files.pythonhosted.org:443',
    'rubygems.org:443',
    'crates.io:443',
    'static.crates.io:443',
    'proxy.golang.org:443',
    'sum.golang.org:443',
    'repo.maven.apache.org:443',
    'registry-1.docker.io:443',
    'auth.docker.io:443',
    'objects.githubusercontent.com:443',
    'gitlab.com:443',
    'deb.debian.org:80',
    'archive.ubuntu.com:80',
    'dl-cdn.alpinelinux.org:443',
  ]) {
    t.true(entries.includes(needed), needed);
  }
});

test('an entry that does not say what it is for makes the list unusable', async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'fsbx-test-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'list.yml');
  await writeFile(
    file,
    'allowed_domains:\n  a.test:443: fine\n  b.test:443:\n',
  );
  const error = await t.throwsAsync(loadRecommended('x', file));
  t.true(error instanceof SandboxError);
  t.regex(
    error!.message,
    /entry 1 \(b\.test:443\) does not say what it is for/,
  );
});

test('used only when the project asks for it', async (t) => {
  const without = await merged({
    project: 'network_policy:\n  allowed_domains: [a.test]\n',
  });
  t.false(allowed(without).some((e) => e.endsWith('<-recommended')));
  const withIt = await merged({
    project: 'network_policy:\n  include_recommended_allowed: true\n',
  });
  t.true(allowed(withIt).includes('pypi.org:443<-recommended'));
});

test('strict: only the recommended entries the operator allows are kept', async (t) => {
  const p = await merged({
    operator:
      'mode: strict\nallowed_domains: ["pypi.org", "files.pythonhosted.org:443"]',
    project: 'network_policy:\n  include_recommended_allowed: true\n',
  });
  t.false(refusedRaw(p).includes('pypi.org:443'));
  t.false(refusedRaw(p).includes('files.pythonhosted.org:443'));
  t.true(refusedRaw(p).includes('registry.npmjs.org:443'));
  t.true(p.refused.every((r) => r.source.kind === 'recommended'));
});

test('flexible: recommended entries the operator denies are refused', async (t) => {
  const p = await merged({
    operator: 'mode: flexible\ndenied_domains: ["github.com"]',
    project: 'network_policy:\n  include_recommended_allowed: true\n',
  });
  t.deepEqual(refusedRaw(p), ['github.com:443']);
});
