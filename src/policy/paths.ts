import path from 'node:path';
import { invalidInput } from '../errors.js';
import type { PathRule, RuleSource } from './types.js';

export const PATH_FORM =
  "an absolute path, `~` or `~/...` (the job user's home), or `.`/`./...` (the working directory), without `..` segments";

/** Where `~` and `.` point for this run. */
export interface PathBase {
  home: string;
  cwd: string;
}

/**
 * Resolves a policy path to an absolute, normalised one. `..` is refused
 * outright: `~/../..` would otherwise widen a rule to `/` without saying so.
 */
export function parsePath(
  raw: unknown,
  field: string,
  base: PathBase,
  source: RuleSource,
): PathRule {
  if (typeof raw !== 'string' || raw.length === 0 || raw.length > 4096) {
    throw invalidInput(
      'POLICY_INVALID',
      field,
      raw,
      PATH_FORM,
      'not a non-empty string',
    );
  }
  if (/[\u0000-\u001f\u007f]/u.test(raw)) {
    throw invalidInput(
      'POLICY_INVALID',
      field,
      raw,
      PATH_FORM,
      'control characters',
    );
  }
  if (raw.split('/').includes('..')) {
    throw invalidInput('POLICY_INVALID', field, raw, PATH_FORM, '`..` segment');
  }
  let absolute: string;
  if (raw === '~' || raw.startsWith('~/')) {
    absolute = path.join(base.home, raw.slice(1));
  } else if (raw === '.' || raw.startsWith('./')) {
    absolute = path.join(base.cwd, raw.slice(1));
  } else if (raw.startsWith('/')) {
    absolute = raw;
  } else {
    throw invalidInput(
      'POLICY_INVALID',
      field,
      raw,
      PATH_FORM,
      'relative path',
    );
  }
  const normal = path.normalize(absolute);
  const trimmed = normal.length > 1 ? normal.replace(/\/+$/, '') : normal;
  return { path: trimmed, raw, source };
}

/** Whether `p` is `dir` or below it (both absolute and normal). */
export function pathUnder(p: string, dir: string): boolean {
  return p === dir || p.startsWith(dir === '/' ? '/' : `${dir}/`);
}
