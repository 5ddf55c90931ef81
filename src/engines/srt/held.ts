import { readFileSync } from 'node:fs';
import { statFields } from '../../state/liveness.js';

/** How often a running SRT sandbox is checked for a held init. */
export const HELD_CHECK_MS = 500;

/** A process's state letter (R, S, T, t, Z, ...), or undefined once it is gone. */
function stateOf(pid: number): string | undefined {
  return statFields(pid)?.[0];
}

/**
 * A zombie's exit status as a shell reports it (field 52, exit_code, in
 * waitpid(2) form), or undefined when the kernel does not say.
 */
export function exitStatusOf(pid: number): number | undefined {
  const raw = Number(statFields(pid)?.[52 - 3]);
  if (!Number.isInteger(raw)) return undefined;
  const signal = raw & 0x7f;
  return signal === 0 ? (raw >> 8) & 0xff : 128 + signal;
}

function childrenOf(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8')
      .split(' ')
      .filter(Boolean)
      .map(Number);
  } catch {
    return [];
  }
}

/** The command SRT started: the first child of the sandbox's init, the child of the outer bwrap. */
export function sandboxCommand(
  bwrap: number,
): { init: number; command: number } | undefined {
  const [init] = childrenOf(bwrap);
  const [command] = init === undefined ? [] : childrenOf(init);
  return init === undefined || command === undefined
    ? undefined
    : { init, command };
}

/**
 * Whether the sandbox is held open: its init (bubblewrap's PID 1) is
 * stopped or traced, and the command has ended (a zombie the stopped init
 * cannot reap). A command may stop its init with ptrace: the same user,
 * and nothing in SRT's sandbox forbids it. The init then never exits, and
 * the sandbox, with whatever the command left running in the background,
 * would outlive the command.
 */
export function sandboxHeld(tree: { init: number; command: number }): boolean {
  const init = stateOf(tree.init);
  if (init !== 'T' && init !== 't') return false;
  const command = stateOf(tree.command);
  return command === undefined || command === 'Z';
}

/**
 * Watches a sandbox once its command has started (call it on the ready
 * signal, while the first child of the init is the command); once the
 * sandbox is held, calls `end` with the command's status, which kills the outer bwrap: its init
 * dies with it (die-with-parent), and the PID namespace with the init.
 * Returns the function that stops watching.
 */
export function watchHeld(
  bwrap: number,
  end: (commandStatus: number | undefined) => void,
): () => void {
  const tree = sandboxCommand(bwrap);
  if (!tree) return () => undefined;
  const timer = setInterval(() => {
    if (!sandboxHeld(tree)) return;
    clearInterval(timer);
    end(exitStatusOf(tree.command));
  }, HELD_CHECK_MS);
  timer.unref();
  return () => clearInterval(timer);
}
