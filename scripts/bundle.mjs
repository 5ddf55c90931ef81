// Bundles the compiled CLI into dist/bundle/ for fast start-up, in two
// steps:
// 1. esbuild: one CommonJS file, SRT included (its import alone loaded
//    about a hundred files). The one file SRT would look for beside its
//    own, the apply-seccomp helper, flow-sandbox finds in the installed
//    package and passes to SRT by path (src/engines/srt/probe.ts).
// 2. node --build-snapshot: a V8 start-up snapshot of that bundle, so a
//    run does not parse and evaluate it again. It only fits the node
//    binary that built it: node.path names that binary, and
//    bin/flow-sandbox uses the snapshot only with it (otherwise the
//    bundle). A node that cannot build one leaves the bundle alone.
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { rmSync, writeFileSync } from 'node:fs';
import { build } from 'esbuild';

const require = createRequire(import.meta.url);

/**
 * SRT imports node-forge at load for TLS termination, which flow-sandbox
 * never turns on; evaluating it was about half of SRT's load time. The
 * import gets a stand-in that loads the real module on first use, so
 * nothing changes if it is ever used.
 */
const lazyForge = {
  name: 'lazy-node-forge',
  setup(b) {
    const real = require.resolve('node-forge');
    b.onResolve({ filter: /^node-forge$/ }, (args) =>
      args.pluginData === 'real'
        ? { path: real }
        : { path: 'lazy-node-forge', namespace: 'fsbx' },
    );
    b.onLoad({ filter: /.*/, namespace: 'fsbx' }, () => ({
      contents: `let forge;
module.exports = new Proxy({}, {
  get: (_, key) => (forge ??= require('node-forge'))[key],
});`,
      loader: 'js',
      resolveDir: process.cwd(),
      pluginData: 'real',
    }));
  },
};

const dir = 'dist/bundle';
await build({
  plugins: [lazyForge],
  entryPoints: ['dist/src/cli/entry.js'],
  outfile: `${dir}/flow-sandbox.cjs`,
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  // Code that reads import.meta.url (package.json, data/, SRT's own
  // files) gets the bundle's URL: set at start, and again by the
  // snapshot's main for the checkout it runs from.
  define: { 'import.meta.url': 'globalThis.__fsbxModuleUrl' },
  banner: {
    js: "globalThis.__fsbxModuleUrl ??= require('node:url').pathToFileURL(__filename).href;",
  },
  logLevel: 'warning',
});

const blob = `${dir}/flow-sandbox.blob`;
rmSync(blob, { force: true });
rmSync(`${dir}/node.path`, { force: true });
try {
  execFileSync(
    process.execPath,
    ['--snapshot-blob', blob, '--build-snapshot', `${dir}/flow-sandbox.cjs`],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  writeFileSync(`${dir}/node.path`, `${process.execPath}\n`);
} catch (error) {
  rmSync(blob, { force: true });
  console.warn(
    `flow-sandbox: no start-up snapshot (the bundle is used): ${String(error.stderr ?? error).trim().split('\n').pop()}`,
  );
}
