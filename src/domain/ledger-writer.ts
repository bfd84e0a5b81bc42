/**
 * The ledger writer: every write of the engine to the {@link Ledger}, in order per
 * consultation (PROTOCOL §6).
 *
 * - `writeThrough`: the caller's answer depends on it (a status a client is about to hear
 *   of). It runs once, after the consultation's earlier writes; when the database refuses
 *   or times out, the caller gets a {@link StorageUnavailableError} and undoes its step.
 * - `writeBehind`: ledger writes off the hot path (offers, transitions back to the queue, notes).
 *   Retried with backoff (50 ms doubling to 5 s) until stored or the writer is closed; a
 *   later write of the same consultation waits for it. Never dropped silently: an error
 *   that is not "the database is away" is logged and counted, then skipped.
 */
import type { Logger } from "../lib/logger.js";
import { StorageUnavailableError } from "./errors.js";
import type { Ledger } from "./ports.js";

/** One write against the ledger. */
export type LedgerWrite = (ledger: Ledger) => Promise<unknown>;

/** Waits `ms`, or less when `signal` aborts; never rejects. Injected so tests need no sleeps. */
export type Sleep = (ms: number, signal: AbortSignal) => Promise<void>;

/** Observation hooks (metrics). */
export interface LedgerWriterObserver {
  /** A write behind failed because the database is away, and will be tried again. */
  retry?(): void;
  /** A write behind was given up: refused for good (`rejected`) or left at close (`shutdown`). */
  failure?(reason: "rejected" | "shutdown"): void;
}

export interface LedgerWriterOptions {
  logger: Logger;
  observer?: LedgerWriterObserver | undefined;
  /**
   * True when an error means the database is unreachable or too slow (worth retrying, and a
   * 503 to callers). Default: every error counts as that.
   */
  isUnavailable?: ((err: unknown) => boolean) | undefined;
  sleep?: Sleep | undefined;
  /** What a {@link StorageUnavailableError} tells callers to wait, in seconds. Default 5. */
  retryAfterS?: number | undefined;
}

/** First wait after a failed write behind; doubles per attempt up to {@link MAX_BACKOFF_MS}. */
export const FIRST_BACKOFF_MS = 50;
export const MAX_BACKOFF_MS = 5000;

/** The wait before retry number `attempt` (1-based). */
export function backoffMs(attempt: number): number {
  return Math.min(MAX_BACKOFF_MS, FIRST_BACKOFF_MS * 2 ** Math.min(attempt - 1, 20));
}

const realSleep: Sleep = (ms, signal) =>
  new Promise<void>((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    timer.unref();
    signal.addEventListener("abort", done, { once: true });
  });

interface Job {
  write: LedgerWrite;
  /** Run once; its failure goes to the caller. */
  through: boolean;
  resolve(): void;
  reject(err: unknown): void;
}

/** The pending writes of one consultation, run one at a time. */
interface Chain {
  jobs: Job[];
  /** Aborts the backoff wait so the head is tried now (a write-through arrived). */
  wake: AbortController | null;
  /** Resolves when the chain has run dry (or the writer closed). */
  done: Promise<void>;
}

export class LedgerWriter {
  private readonly ledger: Ledger;
  private readonly logger: Logger;
  private readonly observer: LedgerWriterObserver | undefined;
  private readonly isUnavailable: (err: unknown) => boolean;
  private readonly sleep: Sleep;
  private readonly retryAfterS: number;
  private readonly chains = new Map<string, Chain>();
  private closed = false;

  constructor(ledger: Ledger, opts: LedgerWriterOptions) {
    this.ledger = ledger;
    this.logger = opts.logger;
    this.observer = opts.observer;
    this.isUnavailable = opts.isUnavailable ?? (() => true);
    this.sleep = opts.sleep ?? realSleep;
    this.retryAfterS = opts.retryAfterS ?? 5;
  }

  /** Queues a write behind the consultation's earlier ones, retried until stored; does not wait. */
  writeBehind(consultationId: string, write: LedgerWrite): void {
    if (this.closed) {
      this.logger.error({ consultationId }, "history write after close: not stored");
      this.observer?.failure?.("shutdown");
      return;
    }
    this.enqueue(consultationId, { write, through: false, resolve: () => {}, reject: () => {} });
  }

  /**
   * Runs a write after the consultation's earlier ones and resolves once it is stored.
   * Rejects with {@link StorageUnavailableError} when the database refuses or times out
   * (also when an earlier write of this consultation is failing for that reason); other
   * errors are passed on as they are. Never retried: the caller undoes its own step.
   */
  writeThrough(consultationId: string, write: LedgerWrite): Promise<void> {
    if (this.closed) return Promise.reject(new StorageUnavailableError(this.retryAfterS));
    return new Promise<void>((resolve, reject) => {
      this.enqueue(consultationId, { write, through: true, resolve, reject });
      // An earlier write waiting out its backoff is tried now: this caller is waiting.
      this.chains.get(consultationId)?.wake?.abort();
    });
  }

  /** Resolves once every write queued so far for this consultation is stored. */
  settle(consultationId: string): Promise<void> {
    if (!this.chains.has(consultationId)) return Promise.resolve();
    return new Promise<void>((resolve) =>
      this.enqueue(consultationId, { write: () => Promise.resolve(), through: false, resolve, reject: resolve }),
    );
  }

  /** Writes not yet stored, per consultation (operators, shutdown logs). */
  pending(): Map<string, number> {
    return new Map([...this.chains].map(([id, c]) => [id, c.jobs.length]));
  }

  /**
   * Waits until every queued write is stored; with `limitMs`, at most that long, then logs
   * what is left (the writes keep being retried until {@link close}).
   */
  async flush(limitMs?: number): Promise<void> {
    const stop = new AbortController();
    const limit = limitMs === undefined ? null : this.sleep(limitMs, stop.signal).then(() => "limit" as const);
    try {
      while (this.chains.size > 0) {
        const all = Promise.all([...this.chains.values()].map((c) => c.done)).then(() => "done" as const);
        if ((await (limit ? Promise.race([all, limit]) : all)) === "limit") break;
      }
    } finally {
      stop.abort();
    }
    if (this.chains.size > 0) {
      const left = [...this.pending()];
      this.logger.error(
        {
          consultations: left.length,
          writes: left.reduce((n, [, k]) => n + k, 0),
          ids: left.slice(0, 20).map(([id]) => id),
        },
        "history writes not stored yet",
      );
    }
  }

  /** Stops retrying: what is left is logged and counted as failures (`shutdown`); waiting callers get 503. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const [id, chain] of this.chains) {
      chain.wake?.abort();
      for (const job of chain.jobs.splice(0)) {
        if (job.through) job.reject(new StorageUnavailableError(this.retryAfterS));
        else {
          this.observer?.failure?.("shutdown");
          job.resolve();
        }
      }
      this.logger.warn({ consultationId: id }, "history writer closed with writes pending");
    }
  }

  private enqueue(key: string, job: Job): void {
    const chain = this.chains.get(key);
    if (chain) {
      chain.jobs.push(job);
      return;
    }
    const fresh: Chain = { jobs: [job], wake: null, done: Promise.resolve() };
    this.chains.set(key, fresh);
    fresh.done = this.run(key, fresh);
  }

  private async run(key: string, chain: Chain): Promise<void> {
    await Promise.resolve(); // start after the caller's turn, like a queued job
    let attempt = 0;
    while (chain.jobs.length > 0 && !this.closed) {
      const job = chain.jobs[0];
      try {
        await job.write(this.ledger);
        if (attempt > 0)
          this.logger.info({ consultationId: key, attempts: attempt + 1 }, "history write stored after retries");
        attempt = 0;
        chain.jobs.shift();
        job.resolve();
      } catch (err) {
        if (this.closed) break;
        const unavailable = this.isUnavailable(err);
        if (job.through) {
          chain.jobs.shift();
          job.reject(unavailable ? new StorageUnavailableError(this.retryAfterS, err) : err);
          continue;
        }
        if (!unavailable) {
          this.logger.error({ err, consultationId: key }, "history write refused by the database: not stored");
          this.observer?.failure?.("rejected");
          chain.jobs.shift();
          job.resolve();
          continue;
        }
        attempt++;
        this.observer?.retry?.();
        if (attempt === 1) this.logger.warn({ err, consultationId: key }, "history write failed; retrying");
        // Callers waiting behind it are answered now: the database is away.
        this.failWaiting(chain, err);
        chain.wake = new AbortController();
        await this.sleep(backoffMs(attempt), chain.wake.signal);
        chain.wake = null;
      }
    }
    if (this.chains.get(key) === chain) this.chains.delete(key);
  }

  private failWaiting(chain: Chain, cause: unknown): void {
    const keep: Job[] = [];
    for (const [i, job] of chain.jobs.entries()) {
      if (i > 0 && job.through) job.reject(new StorageUnavailableError(this.retryAfterS, cause));
      else keep.push(job);
    }
    chain.jobs = keep;
  }
}
