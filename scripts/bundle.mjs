// Bundles the compiled CLI into dist/bundle/ for fast start-up: a run
// resolves a handful of files instead of hundreds. SRT and zod stay
// external: SRT finds its vendored helpers relative to its own files, and
// sharing zod with SRT means it is loaded once.
import { build } from 'esbuild';

await build({
  entryPoints: { 'flow-sandbox': 'dist/src/cli/main.js' },
  bundle: true,
  splitting: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  outdir: 'dist/bundle',
  external: ['@anthropic-ai/sandbox-runtime', 'zod'],
  banner: {
    js: "import { createRequire as __fsbxRequire } from 'node:module'; const require = __fsbxRequire(import.meta.url);",
  },
  logLevel: 'warning',
});
