/**
 * Delivers the webhook outbox (PROTOCOL §9). Every node runs one: it claims due events with
 * `FOR UPDATE SKIP LOCKED` under a lease, signs each with the Standard Webhooks scheme
 * (`standardwebhooks`), and records the outcome: delivered on a 2xx within the deadline,
 * else retried with exponential backoff and full jitter from `WEBHOOK_RETRY_BASE_MS`,
 * until the event's retry window ends, then `failed`. A node killed mid-delivery leaves its
 * lease to expire: another node claims the event again (at least once). Events of one
 * consultation go out in order; other consultations' events flow meanwhile.
 *
 * The database work is batched, so hundreds of events a second cost tens of statements: one
 * claim for all free slots, one read of the claimed events' consultations for their bodies,
 * and one write of the outcomes gathered over a few milliseconds. Recording an outcome frees
 * its slot and makes the consultation's next event claimable, so the dispatcher claims again
 * at once rather than at its next poll.
 */
import { Webhook } from "standardwebhooks";
import type { Clock } from "../lib/clock.js";
import type { Logger } from "../lib/logger.js";
import type { OutageLog } from "../lib/outage-log.js";
import type { Deliverer, DeliveryResult } from "./delivery.js";
import type { AttemptOutcome, ClaimedEvent, WebhookOutbox } from "./outbox.js";
import type { WebhookPayloads } from "./payload.js";

/** Where an app's webhooks go and what signs them; null when the app has none (any more). */
export type WebhookTargets = (appId: number) => Promise<{ url: string; secret: string } | null>;

/** Observer hooks (Prometheus metrics). */
export interface DispatcherObserver {
  attempt?(result: "delivered" | "retry" | "failed", seconds: number): void;
}

export interface DispatcherOptions {
  outbox: Pick<WebhookOutbox, "claim" | "record">;
  payloads: Pick<WebhookPayloads, "buildMany">;
  targets: WebhookTargets;
  deliverer: Pick<Deliverer, "deliver">;
  clock: Clock;
  logger: Logger;
  /** Where claim and record failures go (aggregated when the database is away). */
  outages: OutageLog;
  /** `WEBHOOK_RETRY_BASE_MS`: the first retry waits up to this; each further one twice as long. */
  retryBaseMs: number;
  /** `WEBHOOK_RETRY_WINDOW_S` in ms: an event is retried for this long after it happened, then `failed`. */
  retryWindowMs: number;
  /** Longest wait between two attempts. Default 1 h. */
  maxDelayMs?: number;
  /** Deliveries in flight at once on this node. Default 64. */
  concurrency?: number;
  /** How long a claim is held: longer than the delivery deadline. Default 30 s. */
  leaseMs?: number;
  /** Outcomes are written together after at most this long. Default 50 ms. */
  recordEveryMs?: number;
  observer?: DispatcherObserver;
  /** Randomness of the jitter (tests fix it). */
  random?: () => number;
}

/** The wait before attempt `attempt + 1`: full jitter over `base · 2^(attempt−1)`, capped. */
export function retryDelay(
  attempt: number,
  baseMs: number,
  maxDelayMs: number,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(maxDelayMs, baseMs * 2 ** Math.min(attempt - 1, 30));
  // Never sooner than half the step: a receiver that is down is not hammered.
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

/** The dispatcher of one node. */
export class WebhookDispatcher {
  private readonly concurrency: number;
  private readonly leaseMs: number;
  private readonly maxDelayMs: number;
  private readonly recordEveryMs: number;
  private readonly random: () => number;
  /** Claimed events not yet recorded (their slots). */
  private held = 0;
  private claiming: Promise<number> | null = null;
  /** Set when an outcome was recorded during a claim: claim again after it. */
  private again = false;
  private pending: Array<{ outcome: AttemptOutcome; done: () => void; failed: (err: unknown) => void }> = [];
  private flushTimer: NodeJS.Timeout | null = null;
  private flushing: Promise<void> = Promise.resolve();
  private readonly running = new Set<Promise<void>>();
  private stopped = false;

  constructor(private readonly opts: DispatcherOptions) {
    this.concurrency = opts.concurrency ?? 64;
    this.leaseMs = opts.leaseMs ?? 30_000;
    this.maxDelayMs = opts.maxDelayMs ?? 3_600_000;
    this.recordEveryMs = opts.recordEveryMs ?? 50;
    this.random = opts.random ?? Math.random;
  }

  /**
   * Claims as many due events as there are free slots and starts them; resolves once they
   * are claimed (not delivered), to how many were claimed. One claim at a time.
   */
  runOnce(): Promise<number> {
    if (this.claiming) {
      this.again = true;
      return this.claiming;
    }
    const claim = this.claim().finally(() => {
      this.claiming = null;
      if (this.again && !this.stopped) {
        this.again = false;
        void this.runOnce().catch((err: unknown) => this.opts.outages.warn("webhook claim failed", err));
      }
    });
    this.claiming = claim;
    return claim;
  }

  /** Resolves once every started delivery is recorded. */
  async idle(): Promise<void> {
    while (this.running.size > 0 || this.pending.length > 0) {
      await Promise.allSettled([...this.running]);
      await this.flush();
    }
  }

  /** Claims no more; {@link idle} then waits for what is in flight. */
  stop(): void {
    this.stopped = true;
  }

  private async claim(): Promise<number> {
    const free = this.concurrency - this.held;
    if (free <= 0 || this.stopped) return 0;
    this.held += free; // reserved while the claim runs
    let claimed: ClaimedEvent[] = [];
    try {
      claimed = await this.opts.outbox.claim(
        new Date(this.opts.clock.now()),
        free,
        this.leaseMs,
        this.opts.retryWindowMs,
      );
    } finally {
      this.held -= free - claimed.length;
    }
    if (claimed.length === 0) return 0;
    let bodies: Array<string | null>;
    try {
      bodies = await this.bodiesOf(claimed);
    } catch (err) {
      // Nothing sent: the leases run out and the events are claimed again.
      this.held -= claimed.length;
      throw err;
    }
    claimed.forEach((event, i) => {
      const work = this.attempt(event, bodies[i] ?? null)
        .catch((err: unknown) =>
          this.opts.outages.warn("webhook attempt not recorded; it is retried once its lease ends", err, {
            event: event.id,
          }),
        )
        .finally(() => {
          this.held--;
          this.running.delete(work);
        });
      this.running.add(work);
    });
    return claimed.length;
  }

  /** The body of each event: the one fixed at an earlier attempt, or built now (one read for all). */
  private async bodiesOf(events: ClaimedEvent[]): Promise<Array<string | null>> {
    const missing = events.filter((e) => e.body === null);
    const built = await this.opts.payloads.buildMany(
      missing.map((e) => ({ type: e.type, consultationId: e.consultationId, occurredAt: e.occurredAt })),
    );
    const byId = new Map(missing.map((e, i) => [e.id, built[i]]));
    return events.map((e) => {
      if (e.body !== null) return e.body;
      const payload = byId.get(e.id);
      return payload ? JSON.stringify(payload) : null;
    });
  }

  private async attempt(event: ClaimedEvent, body: string | null): Promise<void> {
    const target = await this.opts.targets(event.appId);
    let result: DeliveryResult;
    if (body === null) result = { ok: false, status: null, error: "the consultation is gone", ms: 0 };
    else if (!target) result = { ok: false, status: null, error: "the app has no webhook url", ms: 0 };
    else result = await this.send(event, body, target);
    const now = this.opts.clock.now();
    if (result.ok && result.status !== null && body !== null) {
      await this.record({
        id: event.id,
        delivered: true,
        at: new Date(now),
        status: result.status,
        error: null,
        nextAttemptAt: null,
        giveUp: false,
        body,
      });
      this.opts.observer?.attempt?.("delivered", result.ms / 1000);
      return;
    }
    const next = now + retryDelay(event.attempt, this.opts.retryBaseMs, this.maxDelayMs, this.random);
    // Nothing to send it to, or its window ended: failed now rather than after more attempts.
    const giveUp = body === null || !target || next > event.retryUntil.getTime();
    await this.record({
      id: event.id,
      delivered: false,
      at: new Date(now),
      status: result.status,
      error: result.error ?? "failed",
      nextAttemptAt: new Date(next),
      giveUp,
      body,
    });
    this.opts.observer?.attempt?.(giveUp ? "failed" : "retry", result.ms / 1000);
  }

  /**
   * Queues an outcome for the next write; resolves once it is written, rejects when the
   * write failed (the event's lease then runs out and it is claimed again).
   */
  private record(outcome: AttemptOutcome): Promise<void> {
    return new Promise<void>((done, failed) => {
      this.pending.push({ outcome, done, failed });
      if (this.pending.length >= this.concurrency) void this.flush();
      else this.flushTimer ??= setTimeout(() => void this.flush(), this.recordEveryMs);
    });
  }

  /** Writes the gathered outcomes in one statement, then claims again (slots and next events are free). */
  private flush(): Promise<void> {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = null;
    const batch = this.pending.splice(0);
    if (batch.length === 0) return this.flushing;
    // One write at a time, in order; a failed one does not stop the next.
    this.flushing = this.flushing.then(async () => {
      try {
        await this.opts.outbox.record(batch.map((b) => b.outcome));
      } catch (err) {
        for (const b of batch) b.failed(err);
        return;
      }
      for (const b of batch) b.done();
      if (!this.stopped)
        void this.runOnce().catch((err: unknown) => this.opts.outages.warn("webhook claim failed", err));
    });
    return this.flushing;
  }

  private send(event: ClaimedEvent, body: string, target: { url: string; secret: string }): Promise<DeliveryResult> {
    const id = `msg_${String(event.id)}`;
    const at = new Date(this.opts.clock.now());
    const signature = new Webhook(target.secret).sign(id, at, body);
    return this.opts.deliverer.deliver(target.url, body, {
      "webhook-id": id,
      "webhook-timestamp": String(Math.floor(at.getTime() / 1000)),
      "webhook-signature": signature,
    });
  }
}
