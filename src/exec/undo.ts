import { describeError } from '../errors.js';
import type { Logger } from '../log/logger.js';

/** One registered undo: what it reverses, and how. */
interface UndoStep {
  label: string;
  undo: () => Promise<void> | void;
}

/**
 * Setup steps register their undo as they succeed; teardown runs them in
 * reverse and collects failures instead of stopping at the first one, so a
 * broken step never strands the kernel objects created before it.
 */
export class UndoStack {
  private readonly steps: UndoStep[] = [];

  push(label: string, undo: UndoStep['undo']): void {
    this.steps.push({ label, undo });
  }

  get size(): number {
    return this.steps.length;
  }

  /** Runs every undo, newest first; returns the failures, logged. */
  async unwind(log: Logger): Promise<string[]> {
    const failures: string[] = [];
    while (this.steps.length > 0) {
      const step = this.steps.pop()!;
      try {
        await step.undo();
        log.debug('undone', { step: step.label });
      } catch (error) {
        const message = `${step.label}: ${describeError(error)}`;
        failures.push(message);
        log.error('teardown step failed', { step: step.label, error: message });
      }
    }
    return failures;
  }
}
