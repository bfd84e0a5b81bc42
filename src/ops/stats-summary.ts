/**
 * `GET /admin/v1/stats/summary` (PROTOCOL §9): requests, matches, abandonment, waits and
 * handling times over days, per app and per vet, computed in SQL from the recorded
 * consultations. Counted by the UTC day a request was made. Requests cancelled as
 * duplicates of another (an owner asking twice at once) or never recorded are not counted.
 *
 * Why two sources: reading a million consultations and sorting their durations takes
 * seconds. A day that is over (yesterday or before) with no consultation open any more is "closed": its
 * figures are computed once into `stats_daily` (per app and vet, with histograms of the
 * durations, `histogram.ts`); newer days are read from `consultations` at each call. The
 * percentiles are interpolated within their histogram bucket (±7.5 %); counts and averages
 * are exact. Feedback given after a day closed does not move that day's outcome counts.
 */
import { and, between, eq, inArray, sql, type SQL } from "drizzle-orm";
import { rowsOf, type Db } from "../db/database.js";
import { statsDaily, statsDaysClosed } from "../db/schema.js";
import type { Clock } from "../lib/clock.js";
import { BUCKET_SQL, mergeInto, quantile, type Histogram } from "./histogram.js";

/** One day's figures of one app and vet (vet 0: none took it). */
interface DayRow {
  day: string;
  appId: number;
  vetId: number;
  requests: number;
  matched: number;
  cancelledBeforeMatch: number;
  expired: number;
  waitCount: number;
  waitSumMs: number;
  waitHist: Histogram;
  handleCount: number;
  handleSumMs: number;
  handleHist: Histogram;
  outcomes: Record<string, number>;
}

/** Average and percentiles of a duration, in seconds (null without values). */
export interface DurationFigures {
  avg: number | null;
  p50: number | null;
  p90: number | null;
}

/** The figures of a set of consultations. */
export interface Figures {
  requests: number;
  matched: number;
  cancelled_before_match: number;
  expired: number;
  /** `cancelled_before_match ÷ requests`; 0 without requests. */
  abandonment_rate: number;
  wait_s: DurationFigures;
  handle_s: DurationFigures;
  /** Feedback outcomes (PROTOCOL §10) → count. */
  by_outcome: Record<string, number>;
}

/** The `data` of `GET /admin/v1/stats/summary`. */
export interface Summary extends Figures {
  from: string;
  to: string;
  app_id: number | null;
  vet_id: number | null;
  by_vet: Array<Figures & { vet_id: number }>;
  by_app: Array<Figures & { app_id: number }>;
  days: Array<Figures & { day: string }>;
}

export interface SummaryQuery {
  /** `YYYY-MM-DD`, inclusive. */
  from: string;
  to: string;
  appId?: number;
  vetId?: number;
}

/** A day may close once it is this many days back (1: yesterday, once nothing of it is open). */
const CLOSE_AFTER_DAYS = 1;
const DAY_MS = 86_400_000;

const dayOf = (ms: number) => new Date(ms).toISOString().slice(0, 10);
const dayStart = (day: string) => Date.parse(`${day}T00:00:00.000Z`);

/** Every day from `from` to `to`, inclusive. */
export function daysBetween(from: string, to: string): string[] {
  const out: string[] = [];
  for (let t = dayStart(from); t <= dayStart(to); t += DAY_MS) out.push(dayOf(t));
  return out;
}

/**
 * The aggregation, per day, app and vet, of the consultations requested in [`startMs`,
 * `endMs`) that `filter` keeps. Both the live read and the closing of days run it.
 */
function aggregate(startMs: number, endMs: number, filter: SQL = sql`true`): SQL {
  const wait = sql.raw(BUCKET_SQL("wait_ms"));
  const handle = sql.raw(BUCKET_SQL("handle_ms"));
  return sql`
    with base as (
      select (c.created_at at time zone 'UTC')::date as day, c.app_id, coalesce(c.vet_id, 0) as vet_id,
        c.status, c.accepted_at,
        -- float8: extract() answers numeric, whose ln() costs far more than a double's.
        case when c.accepted_at is not null then extract(epoch from c.accepted_at - c.created_at)::float8 * 1000 end as wait_ms,
        case when c.status = 'ended' and c.accepted_at is not null and c.ended_at is not null
          then extract(epoch from c.ended_at - c.accepted_at)::float8 * 1000 end as handle_ms,
        f.outcome
      from consultations c left join feedback f on f.consultation_id = c.id
      where c.created_at >= ${new Date(startMs)} and c.created_at < ${new Date(endMs)}
        and coalesce(c.end_reason, '') not in ('duplicate', 'not_recorded') and ${filter}),
    counts as (
      select day, app_id, vet_id, count(*)::int as requests, count(accepted_at)::int as matched,
        (count(*) filter (where status = 'cancelled' and accepted_at is null))::int as cancelled_before_match,
        (count(*) filter (where status = 'expired'))::int as expired,
        count(wait_ms)::int as wait_count, round(coalesce(sum(wait_ms), 0))::bigint as wait_sum_ms,
        count(handle_ms)::int as handle_count, round(coalesce(sum(handle_ms), 0))::bigint as handle_sum_ms
      from base group by 1, 2, 3),
    waits as (
      select day, app_id, vet_id, jsonb_object_agg(b, n) as h
      from (select day, app_id, vet_id, ${wait} as b, count(*)::int as n from base where wait_ms is not null group by 1, 2, 3, 4) x
      group by 1, 2, 3),
    handles as (
      select day, app_id, vet_id, jsonb_object_agg(b, n) as h
      from (select day, app_id, vet_id, ${handle} as b, count(*)::int as n from base where handle_ms is not null group by 1, 2, 3, 4) x
      group by 1, 2, 3),
    outcomes as (
      select day, app_id, vet_id, jsonb_object_agg(outcome, n) as o
      from (select day, app_id, vet_id, outcome, count(*)::int as n from base where outcome is not null group by 1, 2, 3, 4) x
      group by 1, 2, 3)
    select to_char(counts.day, 'YYYY-MM-DD') as day, counts.app_id, counts.vet_id, counts.requests, counts.matched,
      counts.cancelled_before_match, counts.expired, counts.wait_count, counts.wait_sum_ms, counts.handle_count,
      counts.handle_sum_ms, coalesce(waits.h, '{}'::jsonb) as wait_hist, coalesce(handles.h, '{}'::jsonb) as handle_hist,
      coalesce(outcomes.o, '{}'::jsonb) as outcomes
    from counts
      left join waits using (day, app_id, vet_id)
      left join handles using (day, app_id, vet_id)
      left join outcomes using (day, app_id, vet_id)`;
}

interface RawRow {
  day: string;
  app_id: number;
  vet_id: number;
  requests: number;
  matched: number;
  cancelled_before_match: number;
  expired: number;
  wait_count: number;
  wait_sum_ms: string | number;
  wait_hist: Histogram | string;
  handle_count: number;
  handle_sum_ms: string | number;
  handle_hist: Histogram | string;
  outcomes: Record<string, number> | string;
}

const json = <T>(v: T | string): T => (typeof v === "string" ? (JSON.parse(v) as T) : v);

const fromRaw = (r: RawRow): DayRow => ({
  day: r.day,
  appId: r.app_id,
  vetId: r.vet_id,
  requests: r.requests,
  matched: r.matched,
  cancelledBeforeMatch: r.cancelled_before_match,
  expired: r.expired,
  waitCount: r.wait_count,
  waitSumMs: Number(r.wait_sum_ms),
  waitHist: json(r.wait_hist),
  handleCount: r.handle_count,
  handleSumMs: Number(r.handle_sum_ms),
  handleHist: json(r.handle_hist),
  outcomes: json(r.outcomes),
});

/** Sums rows into figures. */
class Tally {
  requests = 0;
  matched = 0;
  cancelled = 0;
  expired = 0;
  waitCount = 0;
  waitSum = 0;
  readonly waitHist: Histogram = {};
  handleCount = 0;
  handleSum = 0;
  readonly handleHist: Histogram = {};
  readonly outcomes: Record<string, number> = {};

  add(r: DayRow): void {
    this.requests += r.requests;
    this.matched += r.matched;
    this.cancelled += r.cancelledBeforeMatch;
    this.expired += r.expired;
    this.waitCount += r.waitCount;
    this.waitSum += r.waitSumMs;
    mergeInto(this.waitHist, r.waitHist);
    this.handleCount += r.handleCount;
    this.handleSum += r.handleSumMs;
    mergeInto(this.handleHist, r.handleHist);
    for (const [o, n] of Object.entries(r.outcomes)) this.outcomes[o] = (this.outcomes[o] ?? 0) + n;
  }

  figures(): Figures {
    const seconds = (ms: number | null) => (ms === null ? null : Math.round(ms) / 1000);
    const durations = (count: number, sum: number, h: Histogram): DurationFigures => ({
      avg: count === 0 ? null : seconds(sum / count),
      p50: seconds(quantile(h, 0.5)),
      p90: seconds(quantile(h, 0.9)),
    });
    return {
      requests: this.requests,
      matched: this.matched,
      cancelled_before_match: this.cancelled,
      expired: this.expired,
      abandonment_rate: this.requests === 0 ? 0 : Math.round((this.cancelled / this.requests) * 10_000) / 10_000,
      wait_s: durations(this.waitCount, this.waitSum, this.waitHist),
      handle_s: durations(this.handleCount, this.handleSum, this.handleHist),
      by_outcome: this.outcomes,
    };
  }
}

/** Computes summaries; closes days on the way (and by {@link closeDays}). */
export class StatsSummary {
  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
  ) {}

  async summary(q: SummaryQuery): Promise<Summary> {
    const days = daysBetween(q.from, q.to);
    const closed = await this.closedDays(days);
    const open = days.filter((d) => !closed.has(d));
    const filter = and(
      q.appId !== undefined ? eq(statsDaily.appId, q.appId) : undefined,
      q.vetId !== undefined ? eq(statsDaily.vetId, q.vetId) : undefined,
    );
    const [stored, live] = await Promise.all([
      closed.size === 0
        ? []
        : this.db
            .select()
            .from(statsDaily)
            .where(and(between(statsDaily.day, q.from, q.to), filter)),
      open.length === 0 ? [] : this.liveRows(open, q),
    ]);
    const rows: DayRow[] = [
      ...stored.map((r) => ({
        ...r,
        waitHist: r.waitHist as Histogram,
        handleHist: r.handleHist as Histogram,
        outcomes: r.outcomes as Record<string, number>,
      })),
      ...live,
    ];
    const total = new Tally();
    const byVet = new Map<number, Tally>();
    const byApp = new Map<number, Tally>();
    const byDay = new Map<string, Tally>(days.map((d) => [d, new Tally()]));
    const into = <K>(m: Map<K, Tally>, k: K, r: DayRow) => {
      let t = m.get(k);
      if (!t) m.set(k, (t = new Tally()));
      t.add(r);
    };
    for (const r of rows) {
      total.add(r);
      if (r.vetId !== 0) into(byVet, r.vetId, r);
      into(byApp, r.appId, r);
      into(byDay, r.day, r);
    }
    return {
      from: q.from,
      to: q.to,
      app_id: q.appId ?? null,
      vet_id: q.vetId ?? null,
      ...total.figures(),
      by_vet: [...byVet].sort((a, b) => a[0] - b[0]).map(([vetId, t]) => ({ vet_id: vetId, ...t.figures() })),
      by_app: [...byApp].sort((a, b) => a[0] - b[0]).map(([appId, t]) => ({ app_id: appId, ...t.figures() })),
      days: [...byDay].map(([day, t]) => ({ day, ...t.figures() })),
    };
  }

  /**
   * Closes every day of `days` that may close (old enough, nothing open) and is not closed
   * yet; resolves to the closed ones among `days`. Several nodes closing at once: the marker
   * row is taken first, in the same transaction, so each day is computed once.
   */
  async closedDays(days: string[]): Promise<Set<string>> {
    if (days.length === 0) return new Set();
    const marked = await this.db
      .select({ day: statsDaysClosed.day })
      .from(statsDaysClosed)
      .where(inArray(statsDaysClosed.day, days));
    const closed = new Set(marked.map((m) => m.day));
    const last = dayOf(this.clock.now() - CLOSE_AFTER_DAYS * DAY_MS);
    const candidates = days.filter((d) => !closed.has(d) && d <= last);
    if (candidates.length === 0) return closed;
    const stillOpen = new Set(
      rowsOf<{ day: string }>(
        await this.db.execute(sql`
          select distinct to_char(created_at at time zone 'UTC', 'YYYY-MM-DD') as day from consultations
          where created_at >= ${new Date(dayStart(candidates[0]))} and created_at < ${new Date(dayStart(candidates[candidates.length - 1]) + DAY_MS)}
            and status in ('queued', 'offered', 'active')`),
      ).map((r) => r.day),
    );
    const closing = candidates.filter((d) => !stillOpen.has(d));
    for (const run of contiguous(closing)) {
      await this.db.transaction(async (tx) => {
        const took = await tx
          .insert(statsDaysClosed)
          .values(run.map((day) => ({ day, computedAt: new Date(this.clock.now()) })))
          .onConflictDoNothing()
          .returning({ day: statsDaysClosed.day });
        if (took.length === 0) return;
        const mine = took.map((t) => t.day);
        await tx.execute(sql`
          insert into stats_daily (day, app_id, vet_id, requests, matched, cancelled_before_match, expired,
            wait_count, wait_sum_ms, handle_count, handle_sum_ms, wait_hist, handle_hist, outcomes)
          select day, app_id, vet_id, requests, matched, cancelled_before_match, expired,
            wait_count, wait_sum_ms, handle_count, handle_sum_ms, wait_hist, handle_hist, outcomes
          from (${aggregate(dayStart(run[0]), dayStart(run[run.length - 1]) + DAY_MS)}) a
          where a.day in (${sql.join(
            mine.map((d) => sql`${d}`),
            sql`, `,
          )})
          on conflict do nothing`);
      });
      for (const d of run) closed.add(d);
    }
    return closed;
  }

  private async liveRows(days: string[], q: SummaryQuery): Promise<DayRow[]> {
    const filter = and(
      q.appId !== undefined ? sql`c.app_id = ${q.appId}` : undefined,
      q.vetId !== undefined ? sql`c.vet_id = ${q.vetId}` : undefined,
    );
    // One scan per run of open days: a day left open long ago does not drag in the closed ones after it.
    const runs = await Promise.all(
      contiguous(days).map(async (run) =>
        rowsOf<RawRow>(
          await this.db.execute(
            aggregate(dayStart(run[0]), dayStart(run[run.length - 1]) + DAY_MS, filter ?? sql`true`),
          ),
        ),
      ),
    );
    return runs.flat().map(fromRaw);
  }
}

/** Most days one scan covers: a scan stays well inside the statement deadline. */
const MAX_RUN_DAYS = 7;

/** Runs of consecutive days, at most {@link MAX_RUN_DAYS} long (each is read or closed in one scan). */
function contiguous(days: string[]): string[][] {
  const runs: string[][] = [];
  for (const d of [...days].sort()) {
    const run = runs[runs.length - 1];
    const prev = run?.[run.length - 1];
    if (run && prev !== undefined && run.length < MAX_RUN_DAYS && dayStart(d) - dayStart(prev) === DAY_MS) run.push(d);
    else runs.push([d]);
  }
  return runs;
}
