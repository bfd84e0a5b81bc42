/**
 * Runs async jobs one after another per key (e.g. the writes of one consultation), and
 * lets callers either wait for their job or move on. `flush()` waits for everything,
 * which a draining node does before exiting.
 */
export class KeyedSerialQueue {
  private readonly tails = new Map<string, Promise<void>>();

  constructor(private readonly onError: (err: unknown, key: string) => void) {}

  /** Queues `job` after the key's earlier jobs; resolves when it is done (never rejects). */
  run(key: string, job: () => Promise<unknown>): Promise<void> {
    const prev = this.tails.get(key) ?? Promise.resolve();
    const next = prev.then(job).then(
      () => undefined,
      (err: unknown) => this.onError(err, key),
    );
    this.tails.set(key, next);
    void next.then(() => {
      if (this.tails.get(key) === next) this.tails.delete(key);
    });
    return next;
  }

  async flush(): Promise<void> {
    while (this.tails.size > 0) await Promise.all([...this.tails.values()]);
  }
}
