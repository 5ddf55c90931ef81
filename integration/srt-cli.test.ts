// flow-sandbox's run command around the SRT engine, in the private test
// network: the fallback when SRT cannot run, the minimum level, and the
// dry run that must leave the host unchanged. Root only.
import test from 'ava';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { useTestnet } from './fixture.js';
import {
  listing,
  tmpLeftovers,
  pathWithout,
  runSandboxed,
  stateDirOf,
} from './sandbox-run.js';
import { rootSkipReason } from './skip.js';

const SRT = ['--force-sandbox', '--engine', 'srt'];
const skip = rootSkipReason(['bwrap', 'socat', 'rg', 'node']);

if (skip) {
  // Reported as skipped, with the reason, never as passed.
  test.skip(`flow-sandbox run with SRT (${skip})`, () => {});
} else {
  const { net: nett, start } = useTestnet(test);

  test.serial(
    'without bubblewrap SRT falls back with a warning and the command runs',
    async (t) => {
      const marker = `ran-fallback-${randomBytes(3).toString('hex')}`;
      const bin = await pathWithout(nett(), ['bwrap']);
      const result = await runSandboxed(nett(), SRT, ['touch', marker], {
        PATH: bin,
      });
      t.is(result.exitCode, 0, result.stderr);
      t.regex(
        result.stderr,
        /WARN.*SANDBOX COULD NOT BE APPLIED.*WITHOUT a sandbox/,
      );
      // Not folded away: the setup section is closed before it.
      const warning = result.stderr.search(/SANDBOX COULD NOT BE APPLIED/);
      const closed = result.stderr.search(/section_end:\d+:fsbx_setup/);
      t.true(closed >= 0 && closed < warning, result.stderr);
      t.regex(result.stderr, /bwrap|bubblewrap/);
      t.true(
        existsSync(path.join(nett().paths.work, marker)),
        'the command must run',
      );
    },
  );

  test.serial(
    'without bubblewrap and --minimum-level srt the command does not run (exit 125)',
    async (t) => {
      const marker = `ran-minimum-${randomBytes(3).toString('hex')}`;
      const bin = await pathWithout(nett(), ['bwrap']);
      const result = await runSandboxed(
        nett(),
        [...SRT, '--minimum-level', 'srt'],
        ['touch', marker],
        { PATH: bin },
      );
      t.is(result.exitCode, 125, result.stderr);
      t.regex(result.stderr, /minimum sandbox level is srt/);
      t.false(
        existsSync(path.join(nett().paths.work, marker)),
        'the command must not run',
      );
    },
  );

  // A kernel run that ends deletes its namespace handle in /run/netns,
  // which unmounts every copy of it; a copy vanishing while bubblewrap
  // remounted its recursive bind of / failed the SRT run starting beside
  // it. Bubblewrap never sees the handles (the test network's are there).
  test.serial(
    "the runner's network namespace handles are not mounted in the sandbox",
    async (t) => {
      const n = nett();
      const host = await n.exec(['cat', '/proc/self/mountinfo']);
      t.regex(host.stdout, / \/run\/netns\/fsbx/, 'the test needs handles');
      const result = await runSandboxed(
        n,
        [...SRT, '--minimum-level', 'srt'],
        ['cat', '/proc/self/mountinfo'],
      );
      t.is(result.exitCode, 0, result.stderr);
      t.notRegex(result.stdout, /\/run\/netns/);
      t.regex(result.stdout, / \/ \/ /, 'the sandbox mount table was read');
    },
  );

  for (const json of [false, true]) {
    const flags = json ? ['--dry-run', '--json'] : ['--dry-run'];
    test.serial(
      `run ${flags.join(' ')} prints the plan and leaves the host unchanged`,
      async (t) => {
        const n = nett();
        const marker = `ran-dry-${randomBytes(3).toString('hex')}`;
        const before = {
          snap: await n.snapshot(),
          tmp: await tmpLeftovers(n),
          state: await listing(stateDirOf(n)),
          work: await listing(n.paths.work),
        };
        const result = await runSandboxed(
          n,
          [...SRT, ...flags],
          ['touch', marker],
        );
        const after = {
          snap: await n.snapshot(),
          tmp: await tmpLeftovers(n),
          state: await listing(stateDirOf(n)),
          work: await listing(n.paths.work),
        };

        t.is(result.exitCode, 0, result.stderr);
        t.deepEqual(await n.differences(before.snap, after.snap), []);
        t.deepEqual(after.tmp, before.tmp, '/tmp');
        t.deepEqual(after.state, before.state, 'state directory');
        t.deepEqual(
          after.work,
          before.work,
          'work directory: the command must not run',
        );
        if (json) {
          const plan = JSON.parse(result.stdout) as DryRunJson;
          t.true(plan.decision.apply);
          t.is(plan.engine.chosen, 'srt');
          t.false(
            existsSync(plan.stateDir),
            'the run state dir is not created',
          );
          const allow = plan.policy.network.allow.map(
            (r) => `${r.entry} <- ${r.source.kind}`,
          );
          t.true(
            allow.some((a) => a.startsWith('gitlab.test ')),
            allow.join(', '),
          );
          t.true(
            allow.some((a) => a.startsWith('*.gitlab.test ')),
            allow.join(', '),
          );
          t.true(
            plan.policy.network.allow.every((r) => r.source.kind.length > 0),
          );
          const srt = plan.enginePlan.details.settings.network.allowedDomains;
          t.true(
            srt.includes('gitlab.test') && srt.includes('*.gitlab.test'),
            srt.join(', '),
          );
        } else {
          t.regex(result.stdout, /Decision: sandbox applies/);
          t.regex(result.stdout, /Engine: srt/);
          t.regex(result.stdout, /\*\.gitlab\.test\s+from \S+/);
          t.regex(result.stdout, /Engine plan \(srt\)/);
          t.regex(result.stdout, /allowedDomains/);
        }
      },
    );
  }

  // SRT blocks Unix sockets with its apply-seccomp helper, which
  // flow-sandbox finds and passes by path (SRT, bundled, would not find it
  // and would leave every socket open with only a warning). With every
  // socket allowed the same connection succeeds: the probe can fail.
  for (const closed of [true, false]) {
    test.serial(
      closed
        ? 'with allow_all_unix_sockets: false a Unix socket outside the policy is refused'
        : 'with every Unix socket allowed the same socket is reachable',
      async (t) => {
        const n = nett();
        const dir = await mkdtemp('/var/tmp/fsbx-unix-');
        const socket = path.join(dir, 'service.sock');
        const server = net.createServer((c) => c.end('hello\n'));
        await new Promise<void>((resolve) => server.listen(socket, resolve));
        try {
          const operator = path.join(dir, 'operator.yml');
          await writeFile(
            operator,
            `mode: flexible\nallow_all_unix_sockets: ${!closed}\n`,
          );
          const result = await runSandboxed(
            n,
            [...SRT, '--minimum-level', 'srt', '--operator-policy', operator],
            [
              'python3',
              '-c',
              'import socket,sys; s=socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); print(s.recv(16).decode().strip())',
              socket,
            ],
          );
          if (closed) {
            t.not(result.exitCode, 0, result.stdout);
            t.notRegex(result.stdout, /hello/);
            t.regex(result.stderr, /PermissionError|Operation not permitted/);
          } else {
            t.is(result.exitCode, 0, result.stderr);
            t.is(result.stdout.trim(), 'hello');
          }
        } finally {
          server.close();
          await rm(dir, { recursive: true, force: true });
        }
      },
    );
  }

  test.serial('no leftovers in the runner namespace', async (t) => {
    t.deepEqual(await nett().differences(start(), await nett().snapshot()), []);
    t.deepEqual(await tmpLeftovers(nett()), [], 'nothing left in /tmp');
  });
}

/** The parts of `--dry-run --json` these tests read. */
interface DryRunJson {
  decision: { apply: boolean };
  engine: { chosen: string };
  stateDir: string;
  policy: { network: { allow: { entry: string; source: { kind: string } }[] } };
  enginePlan: {
    details: { settings: { network: { allowedDomains: string[] } } };
  };
}
