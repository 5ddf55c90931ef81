import { readFileSync } from 'node:fs';

/** The package version, read from package.json at the package root. */
export const VERSION: string = (() => {
  // dist/src/cli/ (tsc) or dist/bundle/ (esbuild): the root is 3 or 2 up.
  for (const up of ['../../../', '../../']) {
    try {
      const url = new URL(`${up}package.json`, import.meta.url);
      const data = JSON.parse(readFileSync(url, 'utf8')) as {
        name?: string;
        version?: string;
      };
      if (data.name === 'flow-sandbox' && data.version) return data.version;
    } catch {
      // Try the next level.
    }
  }
  return 'unknown';
})();
