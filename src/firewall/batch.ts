/**
 * Coalesces work that arrives while a flush is running into the next
 * flush: a burst of DNS answers costs one `nft` process, not one each.
 */
export class BatchQueue<T> {
  private pending: Array<{ item: T; done: (error?: unknown) => void }> = [];
  private running: Promise<void> | undefined;

  constructor(private readonly flush: (items: T[]) => Promise<void>) {}

  /** Resolves once a flush that included `item` has finished. */
  push(item: T): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.pending.push({
        item,
        done: (error) => (error === undefined ? resolve() : reject(error)),
      });
      this.running ??= this.drain();
    });
  }

  /** Waits for every queued item. */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  private async drain(): Promise<void> {
    // Let the callers of this tick queue their items first.
    await Promise.resolve();
    while (this.pending.length > 0) {
      const batch = this.pending;
      this.pending = [];
      try {
        await this.flush(batch.map((entry) => entry.item));
        for (const entry of batch) entry.done();
      } catch (error) {
        for (const entry of batch)
          entry.done(error ?? new Error('flush failed'));
      }
    }
    this.running = undefined;
  }
}
