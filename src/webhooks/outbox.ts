/**
 * The webhook outbox table (PROTOCOL §9): claiming due events across nodes, recording each
 * attempt, the delivery log operators read, hand retries and pruning. Rows are written by
 * the ledger's own statements, in the same statement as the change they report
 * (`repositories/ledger-statements.ts`).
 */
import { and, desc, eq, sql, type SQL } from "drizzle-orm";
import { rowsOf, type Database, type Db, type Statement } from "../db/database.js";
import { webhookOutbox } from "../db/schema.js";
import type { WebhookEventType } from "../protocol/webhooks.js";

/** An event claimed for one attempt. */
export interface ClaimedEvent {
  id: number;
  appId: number;
  consultationId: string;
  type: WebhookEventType;
  occurredAt: Date;
  /** This attempt's number (1 for the first). */
  attempt: number;
  /** The body (JSON text) fixed at an earlier attempt, or null (build it now). */
  body: string | null;
  retryUntil: Date;
}

const statement = (name: string, text: string): Statement => ({ name: `webhooks_${name}`, text });

/**
 * $1 now, $2 how many, $3 leased until, $4 retry window (ms). Due, not leased by a live node,
 * and the first pending event of its consultation; `SKIP LOCKED` lets nodes claim at once.
 */
const CLAIM: Statement = {
  // Planned each time: a prepared generic plan of it was measured 40× slower.
  prepare: false,
  ...statement(
    "claim",
    `with due as (
     select o.id from webhook_outbox o
     where o.status = 'pending' and o.next_attempt_at <= $1::timestamptz
       and (o.locked_until is null or o.locked_until <= $1::timestamptz)
       and not exists (
         select 1 from webhook_outbox e
         where e.consultation_id = o.consultation_id and e.status = 'pending' and e.id < o.id)
     order by o.next_attempt_at, o.id
     limit $2::int
     for update skip locked)
   update webhook_outbox o set locked_until = $3::timestamptz, attempts = o.attempts + 1, last_attempt_at = $1::timestamptz,
     retry_until = coalesce(o.retry_until, o.occurred_at + $4::int * interval '1 millisecond')
   from due where o.id = due.id
   returning o.id, o.app_id, o.consultation_id, o.type, o.occurred_at, o.attempts, o.body, o.retry_until`,
  ),
};

/**
 * Outcomes, one array per column ($1 ids … $7 bodies). A delivered event's body is dropped
 * (a hand retry builds it again); a failed attempt's is kept, so the next sends the same bytes.
 */
const RECORD = statement(
  "record",
  `update webhook_outbox o set status = v.status, delivered_at = v.delivered_at, locked_until = null,
     last_status = v.last_status, last_error = v.last_error,
     next_attempt_at = coalesce(v.next_attempt_at, o.next_attempt_at),
     body = case when v.status = 'delivered' then null else coalesce(o.body, v.body) end
   from unnest($1::bigint[], $2::text[], $3::timestamptz[], $4::int[], $5::text[], $6::timestamptz[], $7::text[])
     as v(id, status, delivered_at, last_status, last_error, next_attempt_at, body)
   where o.id = v.id`,
);

/** How one attempt ended. */
export interface AttemptOutcome {
  id: number;
  delivered: boolean;
  at: Date;
  status: number | null;
  error: string | null;
  /** When to try again (ignored when delivered). */
  nextAttemptAt: Date | null;
  /** No more attempts: `failed`. */
  giveUp: boolean;
  /** The body sent, kept for the next attempts (a body already kept stays). */
  body: string | null;
}

/** A row of the delivery log. */
export interface DeliveryRow {
  id: number;
  consultationId: string;
  type: string;
  status: "pending" | "delivered" | "failed";
  attempts: number;
  lastStatus: number | null;
  lastError: string | null;
  occurredAt: Date;
  lastAttemptAt: Date | null;
  nextAttemptAt: Date | null;
  deliveredAt: Date | null;
}

/** An app's endpoint health, for the operator dashboard. */
export interface EndpointHealth {
  appId: number;
  lastSuccessAt: Date | null;
  /** Events whose last attempt failed after the last success. */
  failuresInARow: number;
  /** When the oldest pending event happened, or null when none is pending. */
  oldestPendingAt: Date | null;
  pending: number;
  failed: number;
}

async function rows<T>(db: Db, query: SQL): Promise<T[]> {
  return rowsOf<T>(await db.execute(query));
}

export class WebhookOutbox {
  private readonly db: Db;

  constructor(private readonly database: Pick<Database, "db" | "query">) {
    this.db = database.db;
  }

  /**
   * Claims up to `limit` due events for one attempt each, leasing them until `now + leaseMs`:
   * pending, due, not leased by a live node, and with no earlier pending event of the same
   * consultation (so events of one consultation go out in order, on whatever node). `SKIP
   * LOCKED` lets every node claim at once without waiting on each other. The first claim
   * sets the event's retry window (`retryWindowMs` from when it happened).
   */
  async claim(now: Date, limit: number, leaseMs: number, retryWindowMs: number): Promise<ClaimedEvent[]> {
    const claimed = await this.database.query<{
      id: string | number;
      app_id: number;
      consultation_id: string;
      type: WebhookEventType;
      occurred_at: Date | string;
      attempts: number;
      body: string | null;
      retry_until: Date | string;
    }>(CLAIM, [now, limit, new Date(now.getTime() + leaseMs), retryWindowMs]);
    return claimed
      .map((r) => ({
        id: Number(r.id),
        appId: r.app_id,
        consultationId: r.consultation_id,
        type: r.type,
        occurredAt: new Date(r.occurred_at),
        attempt: r.attempts,
        body: r.body,
        retryUntil: new Date(r.retry_until),
      }))
      .sort((a, b) => a.id - b.id);
  }

  /** The outcomes of attempts, written in one statement. */
  async record(outcomes: AttemptOutcome[]): Promise<void> {
    if (outcomes.length === 0) return;
    await this.database.query(RECORD, [
      outcomes.map((o) => o.id),
      outcomes.map((o) => (o.delivered ? "delivered" : o.giveUp ? "failed" : "pending")),
      outcomes.map((o) => (o.delivered ? o.at : null)),
      outcomes.map((o) => o.status),
      outcomes.map((o) => (o.delivered ? null : (o.error ?? "failed").slice(0, 500))),
      outcomes.map((o) => o.nextAttemptAt),
      outcomes.map((o) => (o.delivered ? null : o.body)),
    ]);
  }

  /** The attempt succeeded (one outcome; see {@link record}). */
  delivered(id: number, at: Date, status: number, body: string): Promise<void> {
    return this.record([{ id, delivered: true, at, status, error: null, nextAttemptAt: null, giveUp: false, body }]);
  }

  /** The attempt failed: pending again from `nextAttemptAt`, or `failed` when `giveUp` (one outcome; see {@link record}). */
  attemptFailed(
    id: number,
    failure: { status: number | null; error: string; nextAttemptAt: Date; giveUp: boolean; body: string | null },
  ): Promise<void> {
    return this.record([{ id, delivered: false, at: failure.nextAttemptAt, ...failure }]);
  }

  /** The last `limit` events of an app, newest first. */
  async recent(appId: number, limit = 100): Promise<DeliveryRow[]> {
    const found = await this.db
      .select({
        id: webhookOutbox.id,
        consultationId: webhookOutbox.consultationId,
        type: webhookOutbox.type,
        status: webhookOutbox.status,
        attempts: webhookOutbox.attempts,
        lastStatus: webhookOutbox.lastStatus,
        lastError: webhookOutbox.lastError,
        occurredAt: webhookOutbox.occurredAt,
        lastAttemptAt: webhookOutbox.lastAttemptAt,
        nextAttemptAt: webhookOutbox.nextAttemptAt,
        deliveredAt: webhookOutbox.deliveredAt,
      })
      .from(webhookOutbox)
      .where(eq(webhookOutbox.appId, appId))
      .orderBy(desc(webhookOutbox.id))
      .limit(limit);
    return found.map((r) => ({
      ...r,
      status: r.status as DeliveryRow["status"],
      nextAttemptAt: r.status === "pending" ? r.nextAttemptAt : null,
    }));
  }

  /**
   * Sends one event again (operator): pending now, retried for another `windowMs`. The app
   * it belongs to, or null when there is no such event.
   */
  async retry(id: number, now: Date, windowMs: number): Promise<{ appId: number } | null> {
    const updated = await this.db
      .update(webhookOutbox)
      .set({ status: "pending", nextAttemptAt: now, retryUntil: new Date(now.getTime() + windowMs), lockedUntil: null })
      .where(eq(webhookOutbox.id, id))
      .returning({ appId: webhookOutbox.appId });
    return updated[0] ?? null;
  }

  /**
   * An app's endpoint health: the last success, the events whose last attempt failed after
   * it, and the pending ones.
   */
  async health(appId: number): Promise<EndpointHealth> {
    const [found] = await rows<{
      last_success_at: Date | string | null;
      failures_in_a_row: number | string;
      oldest_pending_at: Date | string | null;
      pending: number | string;
      failed: number | string;
    }>(
      this.db,
      sql`with last_ok as (
            select delivered_at as at from webhook_outbox where app_id = ${appId} and status = 'delivered' order by id desc limit 1),
          open as (select id, occurred_at, status, attempts, last_attempt_at from webhook_outbox where app_id = ${appId} and status <> 'delivered')
          select
            (select at from last_ok) as last_success_at,
            (select count(*) from open where attempts > 0
               and last_attempt_at > coalesce((select at from last_ok), '-infinity'::timestamptz)) as failures_in_a_row,
            (select occurred_at from open where status = 'pending' order by id limit 1) as oldest_pending_at,
            (select count(*) from open where status = 'pending') as pending,
            (select count(*) from open where status = 'failed') as failed`,
    );
    const date = (v: Date | string | null | undefined) => (v === null || v === undefined ? null : new Date(v));
    return {
      appId,
      lastSuccessAt: date(found?.last_success_at),
      failuresInARow: Number(found?.failures_in_a_row ?? 0),
      oldestPendingAt: date(found?.oldest_pending_at),
      pending: Number(found?.pending ?? 0),
      failed: Number(found?.failed ?? 0),
    };
  }

  /** When the oldest pending event happened (every app), or null. */
  async oldestPending(): Promise<Date | null> {
    const found = await this.db
      .select({ at: sql<Date | string | null>`min(${webhookOutbox.occurredAt})` })
      .from(webhookOutbox)
      .where(eq(webhookOutbox.status, "pending"));
    const at = found[0]?.at ?? null;
    return at === null ? null : new Date(at);
  }

  /** Deletes finished events older than `before`, at most `limit` at a time; how many went. */
  async prune(before: Date, limit = 5_000): Promise<number> {
    // Ids grow with time: the oldest rows come first in the primary key, so no index on
    // `created_at` is kept up on every event just for this hourly job.
    const gone = await rows<{ id: string }>(
      this.db,
      sql`delete from webhook_outbox where id in (
            select id from webhook_outbox where id <= coalesce((select max(id) from (
                select id from webhook_outbox where created_at < ${before} order by id limit ${limit}) old), 0)
              and created_at < ${before} and status <> 'pending'
            order by id limit ${limit})
          returning id`,
    );
    return gone.length;
  }

  /** Pending events of an app (tests and the dashboard). */
  async pendingCount(appId: number): Promise<number> {
    return this.db.$count(webhookOutbox, and(eq(webhookOutbox.appId, appId), eq(webhookOutbox.status, "pending")));
  }
}
