/**
 * Runs async jobs one after another per key; jobs of different keys run side by side.
 * Each caller gets its own job's result or error, and an earlier job's failure does not
 * stop the later ones. Keys with nothing queued cost nothing.
 */
export class KeyedSerial {
  private readonly tails = new Map<string, Promise<void>>();

  /** Runs `job` once the key's earlier jobs have settled. */
  run<T>(key: string, job: () => Promise<T>): Promise<T> {
    const prev = this.tails.get(key) ?? Promise.resolve();
    const result = prev.then(job);
    const tail = result.then(
      () => undefined,
      () => undefined,
    );
    this.tails.set(key, tail);
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return result;
  }

  /** Keys with a job queued or running (for tests and metrics). */
  get size(): number {
    return this.tails.size;
  }
}
