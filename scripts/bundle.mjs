// Bundles the compiled CLI into dist/bundle/ for fast start-up: a run
// resolves a handful of files instead of hundreds. SRT is bundled too (its
// import alone loaded about a hundred files); the one file SRT would look
// for beside its own, the apply-seccomp helper, flow-sandbox finds in the
// installed package and passes to SRT by path (src/engines/srt/probe.ts).
import { build } from 'esbuild';

await build({
  entryPoints: { 'flow-sandbox': 'dist/src/cli/main.js' },
  bundle: true,
  splitting: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  outdir: 'dist/bundle',
  banner: {
    js: "import { createRequire as __fsbxRequire } from 'node:module'; const require = __fsbxRequire(import.meta.url);",
  },
  logLevel: 'warning',
});
