// A job's environment reaches flow-sandbox, and some variables make every
// program started with them run code it was not asked to (LD_PRELOAD,
// NODE_OPTIONS, ...). The privileged steps (the controller, bubblewrap,
// the kernel engine's launch chain) must never start with them; the job's
// command must get them as set. The loader's own LD_DEBUG shows which
// programs started with its variables: each writes a log file naming itself.
import test from 'ava';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { FLOW_SANDBOX } from './sandbox-run.js';
import { engineSkipReason } from './escape-run.js';
import { rootSkipReason } from './skip.js';

const run = promisify(execFile);
const skip = rootSkipReason(['bwrap']);

/** The programs that started with the loader's debug variables set, one entry per start. */
async function programsLogged(dir: string): Promise<string[]> {
  const files = (await readdir(dir)).filter((f) => f.startsWith('ld.'));
  const programs: string[] = [];
  for (const file of files) {
    const text = await readFile(path.join(dir, file), 'utf8');
    // A process that execs another logs both to the same file.
    for (const m of text.matchAll(/initialize program: (\S+)/g))
      programs.push(m[1]!);
  }
  return programs.sort();
}

for (const engine of ['none', 'srt', 'kernel'] as const) {
  const why =
    skip ?? (engine === 'none' ? undefined : engineSkipReason(engine));
  const it = why ? test.serial.skip : test.serial;
  it(`${engine}: loader and node variables reach the command only${why ? ` (skipped: ${why})` : ''}`, async (t) => {
    const dir = await mkdtemp('/tmp/fsbx-jobenv-');
    try {
      const marker = path.join(dir, 'controller-ran-job-code');
      const hook = path.join(dir, 'hook.cjs');
      await writeFile(
        hook,
        `require('fs').writeFileSync(${JSON.stringify(marker)}, 'x');\n`,
      );
      const result = await run(
        FLOW_SANDBOX,
        [
          'run',
          '--force-sandbox',
          '--engine',
          engine,
          '--minimum-level',
          engine,
          '--',
          '/usr/bin/sh',
          '-c',
          'printf "%s|%s" "$NODE_OPTIONS" "$LD_DEBUG"; exec /usr/bin/true',
        ],
        {
          cwd: dir,
          env: {
            PATH: process.env.PATH ?? '/usr/bin:/bin',
            HOME: process.env.HOME ?? '/root',
            FLOW_SANDBOX_LOG_LEVEL: 'error',
            FLOW_SANDBOX_STATE_DIR: path.join(dir, 'state'),
            NODE_OPTIONS: `--require ${hook}`,
            LD_DEBUG: 'files',
            LD_DEBUG_OUTPUT: path.join(dir, 'ld'),
          },
        },
      );
      t.is(result.stdout, `--require ${hook}|files`, 'the command got both');
      t.false(existsSync(marker), "the controller ran the job's NODE_OPTIONS");
      // The launcher (bin/flow-sandbox, a /bin/sh script) is the one
      // program that cannot help starting with them: the loader acts before
      // any line of it runs (README: the runner must not pass them). After
      // it, only the command's own programs may.
      const programs = await programsLogged(dir);
      t.true(programs.includes('/usr/bin/true'), programs.join(', '));
      t.deepEqual(
        programs.filter((p) => p === '/bin/sh'),
        ['/bin/sh'],
        'the launcher alone',
      );
      t.deepEqual(
        programs.filter(
          (p) => !['/usr/bin/true', '/usr/bin/sh', '/bin/sh'].includes(p),
        ),
        [],
        'privileged programs started with the job loader variables',
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
}
