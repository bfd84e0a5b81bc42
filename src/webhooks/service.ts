/**
 * Partner webhooks of one node (PROTOCOL §9): settings per app, the dispatcher's loop, the
 * delivery log and hand retries, pruning, and the figures operators watch. Built once by the
 * composition root; the admin API and the CLI call it.
 */
import type { Database } from "../db/database.js";
import type { Clock } from "../lib/clock.js";
import type { Logger } from "../lib/logger.js";
import { OutageLog } from "../lib/outage-log.js";
import type { AppAdminRecord, AppRepository } from "../repositories/apps.js";
import { createDeliverer, type Deliverer } from "./delivery.js";
import { WebhookDispatcher, type DispatcherObserver } from "./dispatcher.js";
import { WebhookOutbox, type DeliveryRow, type EndpointHealth } from "./outbox.js";
import { WebhookPayloads } from "./payload.js";
import { generateWebhookSecret, WebhookSecretBox } from "./webhook-secret.js";
import { webhookUrlProblem } from "./url-policy.js";

/** How long a closing node waits for deliveries in flight before it cuts them. */
export const WEBHOOK_CLOSE_WAIT_MS = 3000;

/** What the service reads and how it behaves; `config.webhooks` plus the node's parts. */
export interface WebhookServiceOptions {
  database: Pick<Database, "db" | "query">;
  apps: Pick<AppRepository, "findForAdmin" | "listForAdmin" | "update" | "webhookTarget">;
  gatewaySecret: string;
  clock: Clock;
  logger: Logger;
  /** Where failures of a poll go (aggregated when the database is away); default: the logger, whole. */
  outages?: OutageLog;
  retryBaseMs: number;
  retryWindowMs: number;
  retentionDays: number;
  allowPrivate: boolean;
  httpsOnly: boolean;
  observer?: DispatcherObserver & { oldestPendingSeconds?(seconds: number): void };
  /** How often the dispatcher looks for due events (it also claims again whenever outcomes are written). Default 100 ms. */
  pollMs?: number;
  /** Deliveries in flight at once on this node. Default 64. */
  concurrency?: number;
}

/** An app's webhook settings after a change; `secret` only when a new one was made (shown once). */
export interface WebhookSettings {
  app: AppAdminRecord;
  secret?: string;
}

/** Thrown for a webhook URL the policy refuses (the admin API answers 422 with the message). */
export class WebhookUrlRefused extends Error {}

/** How long an app's target (URL and opened secret) is reused by the dispatcher. */
const TARGET_TTL_MS = 5_000;
const PRUNE_EVERY_MS = 3_600_000;
const GAUGE_EVERY_MS = 10_000;

export class WebhookService {
  readonly outbox: WebhookOutbox;
  private readonly box: WebhookSecretBox;
  private readonly deliverer: Deliverer;
  private readonly dispatcher: WebhookDispatcher;
  private readonly outages: OutageLog;
  private readonly targets = new Map<number, { value: { url: string; secret: string } | null; at: number }>();
  private timers: NodeJS.Timeout[] = [];
  private closed = false;

  constructor(private readonly opts: WebhookServiceOptions) {
    this.outages = opts.outages ?? new OutageLog(opts.logger, opts.clock, () => false);
    this.outbox = new WebhookOutbox(opts.database);
    this.box = new WebhookSecretBox(opts.gatewaySecret);
    this.deliverer = createDeliverer({ allowPrivate: opts.allowPrivate, httpsOnly: opts.httpsOnly });
    this.dispatcher = new WebhookDispatcher({
      outbox: this.outbox,
      payloads: new WebhookPayloads(opts.database),
      targets: (appId) => this.target(appId),
      deliverer: this.deliverer,
      clock: opts.clock,
      logger: opts.logger,
      outages: this.outages,
      retryBaseMs: opts.retryBaseMs,
      retryWindowMs: opts.retryWindowMs,
      ...(opts.concurrency !== undefined ? { concurrency: opts.concurrency } : {}),
      ...(opts.observer ? { observer: opts.observer } : {}),
    });
  }

  /**
   * Sets (or with null removes) an app's webhook URL. An app that had no secret gets one,
   * returned here once; a changed URL keeps the secret. Null when there is no such app.
   */
  async configure(appId: number, url: string | null): Promise<WebhookSettings | null> {
    if (url !== null) await this.checkUrl(url);
    const found = await this.opts.apps.findForAdmin(appId);
    if (!found) return null;
    const current = await this.opts.apps.webhookTarget(appId);
    const secret = url !== null && !current ? generateWebhookSecret() : undefined;
    const app = await this.opts.apps.update(appId, {
      webhookUrl: url,
      ...(secret !== undefined ? { webhookSecretEnc: this.box.seal(secret) } : {}),
      ...(url === null ? { webhookSecretEnc: null } : {}),
    });
    this.targets.delete(appId);
    return app ? { app, ...(secret !== undefined ? { secret } : {}) } : null;
  }

  /** A new signing secret for an app that has a webhook URL (shown once); null when it has none. */
  async rotateSecret(appId: number): Promise<WebhookSettings | null> {
    if (!(await this.opts.apps.webhookTarget(appId))) return null;
    const secret = generateWebhookSecret();
    const app = await this.opts.apps.update(appId, { webhookSecretEnc: this.box.seal(secret) });
    this.targets.delete(appId);
    return app ? { app, secret } : null;
  }

  /** The sealed form of a new secret (an app created with a webhook URL). */
  newSecret(): { secret: string; sealed: string } {
    const secret = generateWebhookSecret();
    return { secret, sealed: this.box.seal(secret) };
  }

  /** Refuses a URL the policy does not allow ({@link WebhookUrlRefused}). */
  async checkUrl(url: string): Promise<void> {
    const problem = await webhookUrlProblem(url, this.opts);
    if (problem) throw new WebhookUrlRefused(problem);
  }

  /** An app's endpoint health and its last 100 deliveries, newest first; null when there is no such app. */
  async log(appId: number): Promise<{ app: AppAdminRecord; health: EndpointHealth; deliveries: DeliveryRow[] } | null> {
    const app = await this.opts.apps.findForAdmin(appId);
    if (!app) return null;
    const [health, deliveries] = await Promise.all([this.outbox.health(appId), this.outbox.recent(appId, 100)]);
    return { app, health, deliveries };
  }

  /** Every app with its webhook URL and, where it has one, its endpoint health. */
  async apps(): Promise<Array<{ app: AppAdminRecord; health: EndpointHealth | null }>> {
    const all = await this.opts.apps.listForAdmin();
    return Promise.all(
      all.map(async (app) => ({ app, health: app.webhookUrl ? await this.outbox.health(app.id) : null })),
    );
  }

  /** Sends one event again (operator); false when there is no such event. */
  async retry(deliveryId: number): Promise<boolean> {
    const done = await this.outbox.retry(deliveryId, new Date(this.opts.clock.now()), this.opts.retryWindowMs);
    if (done) this.kick();
    return done !== null;
  }

  /** Starts the dispatcher's loop, pruning and the pending-age gauge. */
  start(): void {
    const every = (ms: number, run: () => Promise<unknown>, what: string) => {
      const t = setInterval(() => {
        run().catch((err: unknown) => this.outages.warn(`webhook ${what} failed`, err));
      }, ms);
      t.unref();
      this.timers.push(t);
    };
    every(this.opts.pollMs ?? 100, () => this.poll(), "dispatch");
    every(PRUNE_EVERY_MS, () => this.prune(), "prune");
    every(GAUGE_EVERY_MS, () => this.gauge(), "gauge");
  }

  /** One dispatcher round now (the poll; and after a hand retry). */
  async poll(): Promise<void> {
    if (this.closed) return;
    await this.dispatcher.runOnce();
  }

  /** Resolves once every delivery started is recorded (tests, shutdown). */
  idle(): Promise<void> {
    return this.dispatcher.idle();
  }

  /** Deletes delivered and failed events older than `WEBHOOK_RETENTION_DAYS`; how many went. */
  async prune(): Promise<number> {
    const before = new Date(this.opts.clock.now() - this.opts.retentionDays * 86_400_000);
    let total = 0;
    for (let gone = -1; gone !== 0 && !this.closed; total += gone) gone = await this.outbox.prune(before);
    return total;
  }

  /**
   * Stops claiming, gives deliveries in flight up to {@link WEBHOOK_CLOSE_WAIT_MS}, then cuts
   * them: a slow partner endpoint must not hold a node's shutdown past its budget. A cut
   * delivery's lease lapses and any node sends it again (at least once).
   */
  async close(): Promise<void> {
    this.closed = true;
    for (const t of this.timers) clearInterval(t);
    this.dispatcher.stop();
    let timer: NodeJS.Timeout | undefined;
    const bound = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, WEBHOOK_CLOSE_WAIT_MS);
    });
    await Promise.race([this.dispatcher.idle(), bound]);
    clearTimeout(timer);
    this.deliverer.close();
  }

  private kick(): void {
    void this.poll().catch((err: unknown) => this.outages.warn("webhook dispatch failed", err));
  }

  private async gauge(): Promise<void> {
    const oldest = await this.outbox.oldestPending();
    this.opts.observer?.oldestPendingSeconds?.(
      oldest === null ? 0 : Math.max(0, (this.opts.clock.now() - oldest.getTime()) / 1000),
    );
  }

  private async target(appId: number): Promise<{ url: string; secret: string } | null> {
    const now = this.opts.clock.now();
    const held = this.targets.get(appId);
    if (held && now - held.at < TARGET_TTL_MS) return held.value;
    const found = await this.opts.apps.webhookTarget(appId);
    const secret = found ? this.box.open(found.webhookSecretEnc) : null;
    if (found && secret === null)
      this.opts.logger.error({ appId }, "webhook secret cannot be opened (GATEWAY_SECRET changed?): rotate it");
    const value = found && secret !== null ? { url: found.webhookUrl, secret } : null;
    this.targets.set(appId, { value, at: now });
    return value;
  }
}
