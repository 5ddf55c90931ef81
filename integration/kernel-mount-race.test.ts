// The kernel engine's PID 1 script makes every mount read-only before the
// command starts. Mounts can vanish meanwhile (a container stopping on the
// runner detaches its overlay from every namespace); that must not fail
// the run, and a mount the pass really missed must stop it. The script
// runs for real in a private mount namespace, with a `mount` wrapper that
// makes the race happen at the same point every time.
import test from 'ava';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { promisify } from 'node:util';
import {
  INIT_SCRIPT,
  READ_ONLY_FSTAB,
  SOCKETS_CHECK,
  SOCKETS_TAB,
  VIEW_FSTAB,
} from '../src/mounts/launch.js';
import { rootSkipReason } from './skip.js';

const run = promisify(execFile);
const skip = rootSkipReason(['setpriv']);
const it = skip ? test.skip : test;

/**
 * A stand-in for mount(8): before the read-only pass it applies `race`
 * to the namespace (as another process would), then runs the real mount.
 */
const wrapper = (race: string) => `#!/bin/sh
case "$*" in *${READ_ONLY_FSTAB}*) ${race} ;; esac
exec /usr/bin/mount "$@"
`;

/**
 * Runs the init script in a private mount and PID namespace, with `true`
 * as the command. Everything it writes lives on a tmpfs over `dir` (the
 * script makes / read-only first); `$DIR/victim` is a mount of its own.
 */
async function initScript(dir: string, race: string) {
  const prepare = [
    'set -e',
    'mount -t tmpfs fsbxrace-state "$DIR"',
    'mkdir "$DIR/fstabs" "$DIR/victim"',
    `for f in ${VIEW_FSTAB} ${SOCKETS_TAB} ${SOCKETS_CHECK}; do : >"$DIR/fstabs/$f"; done`,
    'printf %s "$WRAPPER" >"$DIR/mount"',
    'chmod 755 "$DIR/mount"',
    'mount -t tmpfs fsbxrace-victim "$DIR/victim"',
    'exec /usr/bin/sh -c "$INIT" fsbx-init "$DIR/fstabs" "$DIR" /usr/bin/setpriv "$DIR/mount" /usr/bin/env /usr/bin/true',
  ].join('\n');
  const argv = ['--mount', '--propagation', 'private', '--pid', '--fork'];
  return run(
    '/usr/bin/unshare',
    [...argv, '--', '/usr/bin/sh', '-c', prepare],
    {
      timeout: 30_000,
      env: {
        ...process.env,
        DIR: dir,
        INIT: INIT_SCRIPT,
        WRAPPER: wrapper(race),
      },
    },
  ).then(
    ({ stderr }) => ({ status: 0, stderr }),
    (error: { code?: number; stderr?: string }) => ({
      status: error.code ?? -1,
      stderr: error.stderr ?? '',
    }),
  );
}

it(`a mount that vanishes during the read-only pass does not fail the run${skip ? ` (skipped: ${skip})` : ''}`, async (t) => {
  const dir = mkdtempSync('/var/tmp/fsbx-mount-race-');
  try {
    // Detach and remove the mount point, as the host does when a container stops.
    const result = await initScript(
      dir,
      'umount -l "$DIR/victim" && rmdir "$DIR/victim"',
    );
    t.is(result.status, 0, result.stderr);
    t.is(result.stderr, '');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

it(`a mount the read-only pass left writable stops the run${skip ? ` (skipped: ${skip})` : ''}`, async (t) => {
  const dir = mkdtempSync('/var/tmp/fsbx-mount-race-');
  try {
    // Take the victim's line out of the pass: it stays writable.
    const fstab = `"$DIR/fstabs/${READ_ONLY_FSTAB}"`;
    const result = await initScript(
      dir,
      `grep -v victim ${fstab} >"$DIR/new"; mv "$DIR/new" ${fstab}`,
    );
    t.is(result.status, 125);
    t.regex(
      result.stderr,
      new RegExp(`could not make this mount read-only: ${dir}/victim\\n`),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
