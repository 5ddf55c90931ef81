// The bundle's entry (scripts/bundle.mjs). `make build` also turns the
// bundle into a V8 start-up snapshot: the modules are then loaded and
// evaluated once, at build time, and a run starts with them in memory
// (bin/flow-sandbox picks the snapshot when it matches the node binary).
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import v8 from 'node:v8';
import { main } from './main.js';
import { warmUp } from './warm.js';

declare global {
  // The bundle's own URL: esbuild puts it where the code reads
  // import.meta.url, which a CommonJS bundle does not have.
  var __fsbxModuleUrl: string | undefined;
}

/** The snapshot blob this process started from, if any. */
function snapshotBlob(): string | undefined {
  const args = process.execArgv;
  const at = args.indexOf('--snapshot-blob');
  if (at >= 0) return args[at + 1];
  const joined = args.find((a) => a.startsWith('--snapshot-blob='));
  return joined?.slice('--snapshot-blob='.length);
}

if (v8.startupSnapshot?.isBuildingSnapshot()) {
  void warmUp();
  v8.startupSnapshot.setDeserializeMainFunction(() => {
    // The blob sits beside the bundle, wherever the checkout is now.
    const blob = snapshotBlob();
    if (blob) {
      globalThis.__fsbxModuleUrl = pathToFileURL(
        path.join(path.dirname(path.resolve(blob)), 'flow-sandbox.cjs'),
      ).href;
    }
    void main(process.argv.slice(1));
  });
} else {
  void main(process.argv.slice(2));
}
