/**
 * Delivers the webhook outbox (PROTOCOL §9). Every node runs one: it claims due events with
 * `FOR UPDATE SKIP LOCKED` under a lease, signs each with the Standard Webhooks scheme
 * (`standardwebhooks`), and records the outcome: delivered on a 2xx within the deadline,
 * else retried with exponential backoff and full jitter from `WEBHOOK_RETRY_BASE_MS`,
 * until the event's retry window ends, then `failed`. A node killed mid-delivery leaves its
 * lease to expire: another node claims the event again (at least once). Events of one
 * consultation go out in order; other consultations' events flow meanwhile.
 */
import { Webhook } from "standardwebhooks";
import type { Clock } from "../lib/clock.js";
import type { Logger } from "../lib/logger.js";
import type { Deliverer, DeliveryResult } from "./delivery.js";
import type { ClaimedEvent, WebhookOutbox } from "./outbox.js";
import type { WebhookPayloads } from "./payload.js";

/** Where an app's webhooks go and what signs them; null when the app has none (any more). */
export type WebhookTargets = (appId: number) => Promise<{ url: string; secret: string } | null>;

/** Observer hooks (Prometheus metrics). */
export interface DispatcherObserver {
  attempt?(result: "delivered" | "retry" | "failed", seconds: number): void;
}

export interface DispatcherOptions {
  outbox: Pick<WebhookOutbox, "claim" | "delivered" | "attemptFailed">;
  payloads: Pick<WebhookPayloads, "build">;
  targets: WebhookTargets;
  deliverer: Pick<Deliverer, "deliver">;
  clock: Clock;
  logger: Logger;
  /** `WEBHOOK_RETRY_BASE_MS`: the first retry waits up to this; each further one twice as long. */
  retryBaseMs: number;
  /** `WEBHOOK_RETRY_WINDOW_S` in ms: an event is retried for this long after it happened, then `failed`. */
  retryWindowMs: number;
  /** Longest wait between two attempts. Default 1 h. */
  maxDelayMs?: number;
  /** Deliveries in flight at once on this node. Default 16. */
  concurrency?: number;
  /** How long a claim is held: longer than the delivery deadline. Default 30 s. */
  leaseMs?: number;
  observer?: DispatcherObserver;
  /** Randomness of the jitter (tests fix it). */
  random?: () => number;
}

/** The wait before attempt `attempt + 1`: full jitter over `base · 2^(attempt−1)`, capped. */
export function retryDelay(attempt: number, baseMs: number, maxDelayMs: number, random: () => number = Math.random): number {
  const ceiling = Math.min(maxDelayMs, baseMs * 2 ** Math.min(attempt - 1, 30));
  // Never sooner than half the step: a receiver that is down is not hammered.
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

/** The dispatcher of one node; {@link runOnce} is one claim-and-deliver round. */
export class WebhookDispatcher {
  private readonly concurrency: number;
  private readonly leaseMs: number;
  private readonly maxDelayMs: number;
  private readonly random: () => number;
  private inFlight = 0;
  private readonly running = new Set<Promise<void>>();

  constructor(private readonly opts: DispatcherOptions) {
    this.concurrency = opts.concurrency ?? 16;
    this.leaseMs = opts.leaseMs ?? 30_000;
    this.maxDelayMs = opts.maxDelayMs ?? 3_600_000;
    this.random = opts.random ?? Math.random;
  }

  /**
   * Claims as many due events as there are free delivery slots and starts them; resolves
   * once they are claimed (not delivered), to how many were claimed.
   */
  async runOnce(): Promise<number> {
    const free = this.concurrency - this.inFlight;
    if (free <= 0) return 0;
    const claimed = await this.opts.outbox.claim(new Date(this.opts.clock.now()), free, this.leaseMs, this.opts.retryWindowMs);
    for (const event of claimed) {
      this.inFlight++;
      const work = this.attempt(event)
        .catch((err: unknown) => this.opts.logger.warn({ err, event: event.id }, "webhook attempt not recorded; it is retried once its lease ends"))
        .finally(() => {
          this.inFlight--;
          this.running.delete(work);
        });
      this.running.add(work);
    }
    return claimed.length;
  }

  /** Resolves once every started delivery is recorded. */
  async idle(): Promise<void> {
    while (this.running.size > 0) await Promise.allSettled([...this.running]);
  }

  private async attempt(event: ClaimedEvent): Promise<void> {
    const body = event.body ?? (await this.bodyOf(event));
    const target = await this.opts.targets(event.appId);
    let result: DeliveryResult;
    if (body === null) result = { ok: false, status: null, error: "the consultation is gone", ms: 0 };
    else if (!target) result = { ok: false, status: null, error: "the app has no webhook url", ms: 0 };
    else result = await this.send(event, body, target);
    const now = this.opts.clock.now();
    if (result.ok && result.status !== null && body !== null) {
      await this.opts.outbox.delivered(event.id, new Date(now), result.status, body);
      this.opts.observer?.attempt?.("delivered", result.ms / 1000);
      return;
    }
    const next = now + retryDelay(event.attempt, this.opts.retryBaseMs, this.maxDelayMs, this.random);
    // Nothing to send it to, or its window ended: failed now rather than after more attempts.
    const giveUp = body === null || !target || next > event.retryUntil.getTime();
    await this.opts.outbox.attemptFailed(event.id, {
      status: result.status,
      error: result.error ?? "failed",
      nextAttemptAt: new Date(next),
      giveUp,
      body,
    });
    this.opts.observer?.attempt?.(giveUp ? "failed" : "retry", result.ms / 1000);
  }

  private async bodyOf(event: ClaimedEvent): Promise<string | null> {
    const payload = await this.opts.payloads.build(event.type, event.consultationId, event.occurredAt);
    return payload === null ? null : JSON.stringify(payload);
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
