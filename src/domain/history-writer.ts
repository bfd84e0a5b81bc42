/**
 * The history writer: every write of the engine to the {@link Ledger}, in order per
 * consultation. Routing never waits for PostgreSQL unless a rule needs the write visible
 * first (a final status before anyone is told, a SID another node looks up).
 */
import { KeyedSerialQueue } from "../lib/keyed-queue.js";
import type { Logger } from "../lib/logger.js";
import type { Ledger } from "./ports.js";

/** One history write against the ledger. */
export type HistoryWrite = (ledger: Ledger) => Promise<unknown>;

export class HistoryWriter {
  private readonly ledger: Ledger;
  /** Pending writes, chained per consultation id. */
  private readonly pending: KeyedSerialQueue;

  constructor(ledger: Ledger, logger: Logger) {
    this.ledger = ledger;
    this.pending = new KeyedSerialQueue((err, key) =>
      logger.error({ err, consultationId: key }, "consultation history write failed"),
    );
  }

  /** Queues a write behind the consultation's earlier ones, without waiting for it. */
  writeBehind(consultationId: string, write: HistoryWrite): void {
    void this.pending.run(consultationId, () => write(this.ledger));
  }

  /** Queues a write and resolves once it (and every earlier write of that consultation) landed. */
  writeThrough(consultationId: string, write: HistoryWrite): Promise<void> {
    return this.pending.run(consultationId, () => write(this.ledger));
  }

  /**
   * Resolves once every write queued so far for this consultation has landed (failed ones
   * are logged, never thrown): after it, any node reading the ledger sees them.
   */
  settle(consultationId: string): Promise<void> {
    return this.pending.run(consultationId, () => Promise.resolve());
  }

  /** Waits for every queued write of every consultation (tests, shutdown). */
  flush(): Promise<void> {
    return this.pending.flush();
  }
}
