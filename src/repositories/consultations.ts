import { and, asc, count, desc, eq, gt, inArray, isNotNull, isNull, sql, type SQL } from "drizzle-orm";
import type { Database, Db, Statement, StatementRunner } from "../db/database.js";
import { consultationEvents, consultations, feedback, offers, vets } from "../db/schema.js";
import type {
  ConsultationRecord,
  FeedbackRecord,
  Ledger,
  OpenConsultationRecord,
  TransitionPatch,
  WrapupRecord,
} from "../domain/ports.js";
import type { ConsultationStatus, ConsultationType, LiveConsultation, OfferOutcome, OpenStatus, PriorityClass } from "../domain/types.js";

const recordColumns = {
  id: consultations.id,
  appId: consultations.appId,
  userId: consultations.userId,
  petId: consultations.petId,
  type: consultations.type,
  status: consultations.status,
  vetId: consultations.vetId,
  channelSid: consultations.channelSid,
  roomSid: consultations.roomSid,
  createdAt: consultations.createdAt,
  endedAt: consultations.endedAt,
};

const TERMINAL = new Set<ConsultationStatus>(["ended", "cancelled", "expired"]);

type Row = { [K in keyof typeof recordColumns]: unknown };
const toRecord = (r: Row): ConsultationRecord => r as ConsultationRecord;

/**
 * The PostgreSQL {@link Ledger}: consultations, every transition, offers with their outcome,
 * and feedback. Writes from several nodes may land out of order; a status only moves
 * forward in time (`updated_at` guard), and terminal statuses are never overwritten.
 */
export class ConsultationRepository implements Ledger {
  private readonly db: Db;
  /** Durable writes: the request row (written before routing sees the request). */
  private readonly durable: StatementRunner;
  /** History written behind the hot path. */
  private readonly write: StatementRunner;

  /**
   * Reads and feedback go through `database.db`; the request row through `database.write`,
   * durable before routing sees it; transitions and offers through `database.historyWrite`,
   * written behind the hot path. Those writes are fixed statements: nothing is built per call.
   */
  constructor(database: Pick<Database, "db" | "write" | "historyWrite">) {
    this.db = database.db;
    this.durable = database.write;
    this.write = database.historyWrite;
  }

  async create(c: LiveConsultation, source: "socket" | "rest"): Promise<void> {
    const at = iso(c.createdAt);
    const detail = JSON.stringify({ source, ...(c.vetId !== null ? { vet_id: c.vetId } : {}) });
    await this.durable(CREATE, [
      c.id,
      c.appId,
      c.userId,
      c.petId,
      c.type,
      source,
      c.status,
      c.requestedVetId,
      c.vetId,
      c.channelSid,
      c.roomSid,
      at,
      c.acceptedAt === null ? null : iso(c.acceptedAt),
      detail,
      c.language ?? null,
      c.priority === "emergency",
      c.species ?? null,
      c.priority ?? "normal",
    ]);
  }

  async transition(
    id: string,
    to: ConsultationStatus,
    atMs: number,
    patch: TransitionPatch = {},
    detail?: Record<string, unknown>,
  ): Promise<void> {
    const values = transitionValues(id, to, atMs, patch, detail);
    const r = patch.resolvedOffer;
    if (r?.offeredAt !== undefined && r.expiresAt !== undefined) {
      await this.write(TRANSITION_UPSERTING_OFFER, [...values, r.outcome, r.vetId, iso(r.offeredAt), iso(r.expiresAt)]);
    } else if (r) await this.write(TRANSITION_RESOLVING_OFFER, [...values, r.outcome, r.vetId]);
    else await this.write(TRANSITION, values);
  }

  async offerMade(consultationId: string, vetId: number, offeredAt: number, expiresAt: number, requested: boolean): Promise<void> {
    const values = transitionValues(consultationId, "offered", offeredAt, {}, { vet_id: vetId, requested });
    await this.write(TRANSITION_MAKING_OFFER, [...values, vetId, iso(expiresAt)]);
  }

  async offerEnded(
    consultationId: string,
    vetId: number,
    outcome: OfferOutcome,
    atMs: number,
    requeued: boolean,
    offer?: { offeredAt: number; expiresAt: number },
  ): Promise<void> {
    if (!requeued) {
      if (offer) await this.write(UPSERT_RESOLVED_OFFER, [consultationId, vetId, outcome, iso(atMs), iso(offer.offeredAt), iso(offer.expiresAt)]);
      else await this.write(RESOLVE_OFFER, [consultationId, vetId, outcome, iso(atMs)]);
      return;
    }
    const values = transitionValues(consultationId, "queued", atMs, {}, { offer_outcome: outcome, vet_id: vetId });
    if (offer) await this.write(TRANSITION_UPSERTING_OFFER, [...values, outcome, vetId, iso(offer.offeredAt), iso(offer.expiresAt)]);
    else await this.write(TRANSITION_RESOLVING_OFFER, [...values, outcome, vetId]);
  }

  async setSids(id: string, sids: { channelSid?: string; roomSid?: string }): Promise<void> {
    if (sids.channelSid === undefined && sids.roomSid === undefined) return;
    await this.write(SET_SIDS, [id, sids.channelSid ?? null, sids.roomSid ?? null]);
  }

  async note(id: string, atMs: number, detail: Record<string, unknown>): Promise<void> {
    await this.write(NOTE, [id, JSON.stringify(detail), iso(atMs)]);
  }

  async get(id: string): Promise<ConsultationRecord | null> {
    if (!UUID.test(id)) return null;
    const rows = await this.db.select(recordColumns).from(consultations).where(eq(consultations.id, id)).limit(1);
    return rows[0] ? toRecord(rows[0]) : null;
  }

  findByChannel(appId: number, channelSid: string): Promise<ConsultationRecord | null> {
    return this.findBySid(appId, consultations.channelSid, channelSid);
  }

  findByRoom(appId: number, roomSid: string): Promise<ConsultationRecord | null> {
    return this.findBySid(appId, consultations.roomSid, roomSid);
  }

  private async findBySid(
    appId: number,
    column: typeof consultations.channelSid | typeof consultations.roomSid,
    sid: string,
  ): Promise<ConsultationRecord | null> {
    const rows = await this.db
      .select(recordColumns)
      .from(consultations)
      .where(and(eq(consultations.appId, appId), eq(column, sid)))
      .limit(1);
    return rows[0] ? toRecord(rows[0]) : null;
  }

  async saveFeedback(consultationId: string, vetId: number, recommendation: string, reason: string, atMs: number): Promise<void> {
    const at = new Date(atMs);
    await this.db
      .insert(feedback)
      .values({ consultationId, vetId, recommendation, reason, createdAt: at, updatedAt: at })
      .onConflictDoUpdate({ target: feedback.consultationId, set: { recommendation, reason, vetId, updatedAt: at } });
  }

  async findFeedback(consultationId: string): Promise<FeedbackRecord | null> {
    const rows = await this.db
      .select({
        consultationId: feedback.consultationId,
        type: consultations.type,
        vetFirstName: vets.firstName,
        vetLastName: vets.lastName,
        recommendation: feedback.recommendation,
        reason: feedback.reason,
        updatedAt: feedback.updatedAt,
      })
      .from(feedback)
      .innerJoin(consultations, eq(consultations.id, feedback.consultationId))
      .innerJoin(vets, eq(vets.id, feedback.vetId))
      .where(eq(feedback.consultationId, consultationId))
      .limit(1);
    const r = rows[0];
    return r ? { ...r, type: r.type as ConsultationType } : null;
  }

  async openConsultations(): Promise<OpenConsultationRecord[]> {
    // Excluded: vets whose offer ended without acceptance, and vets who left it (hand-over).
    const excluded = sql<number[]>`coalesce((select array_agg(distinct v order by v) from (
      select o.vet_id as v from offers o
        where o.consultation_id = "consultations"."id"
          and o.outcome in ('declined', 'timeout', 'disconnected', 'away', 'node_dead')
      union all
      select (e.detail->>'from_vet_id')::integer from consultation_events e
        where e.consultation_id = "consultations"."id" and e.to_status = 'queued'
          and e.detail->>'reason' = 'vet_left' and e.detail ? 'from_vet_id') x), '{}'::integer[])`;
    const transferredAt = sql<Date | string | null>`(select max(e.at) from consultation_events e
      where e.consultation_id = "consultations"."id" and e.to_status = 'queued' and e.detail->>'reason' = 'vet_left')`;
    const rows = await this.db
      .select({
        id: consultations.id,
        appId: consultations.appId,
        userId: consultations.userId,
        petId: consultations.petId,
        type: consultations.type,
        status: consultations.status,
        requestedVetId: consultations.requestedVetId,
        vetId: consultations.vetId,
        channelSid: consultations.channelSid,
        roomSid: consultations.roomSid,
        createdAt: consultations.createdAt,
        acceptedAt: consultations.acceptedAt,
        excludedVetIds: excluded,
        species: consultations.species,
        language: consultations.language,
        priority: consultations.priority,
        transferredAt,
      })
      .from(consultations)
      .where(inArray(consultations.status, ["queued", "offered", "active"]))
      .orderBy(asc(consultations.createdAt), asc(consultations.id));
    return rows.map((r) => ({
      ...r,
      type: r.type as ConsultationType,
      status: r.status as OpenStatus,
      createdAt: r.createdAt.getTime(),
      acceptedAt: r.acceptedAt ? r.acceptedAt.getTime() : null,
      excludedVetIds: (r.excludedVetIds ?? []).map(Number),
      priority: priorityClass(r.priority),
      transferredAt: r.transferredAt === null ? null : new Date(r.transferredAt).getTime(),
    }));
  }

  async recentWrapups(since: number): Promise<WrapupRecord[]> {
    const rows = await this.db
      .select({ vetId: consultations.vetId, consultationId: consultations.id, endedAt: consultations.endedAt })
      .from(consultations)
      .leftJoin(feedback, eq(feedback.consultationId, consultations.id))
      .where(
        and(
          eq(consultations.status, "ended"),
          isNotNull(consultations.vetId),
          gt(consultations.endedAt, new Date(since)),
          isNull(feedback.consultationId),
        ),
      )
      .orderBy(asc(consultations.endedAt));
    return rows.map((r) => ({ vetId: r.vetId ?? 0, consultationId: r.consultationId, endedAt: r.endedAt?.getTime() ?? 0 }));
  }

  /** Every transition of one consultation, oldest first (history, tests, support). */
  async history(id: string): Promise<Array<{ from: string | null; to: string; at: Date; detail: unknown }>> {
    const rows = await this.db
      .select({ from: consultationEvents.fromStatus, to: consultationEvents.toStatus, at: consultationEvents.at, detail: consultationEvents.detail })
      .from(consultationEvents)
      .where(eq(consultationEvents.consultationId, id))
      .orderBy(consultationEvents.at, consultationEvents.id);
    return rows;
  }

  /** Offers of one consultation, oldest first. */
  async offersOf(id: string): Promise<Array<{ vetId: number; outcome: string | null }>> {
    return this.db
      .select({ vetId: offers.vetId, outcome: offers.outcome })
      .from(offers)
      .where(eq(offers.consultationId, id))
      .orderBy(offers.id);
  }
}

/** Every stored column of a consultation, for operators. */
export interface ConsultationDetail {
  id: string;
  appId: number;
  userId: number;
  petId: number | null;
  type: string;
  source: string;
  status: string;
  requestedVetId: number | null;
  vetId: number | null;
  channelSid: string | null;
  roomSid: string | null;
  endedBy: string | null;
  endReason: string | null;
  /** ISO 639-1 code the owner asked for, or null. */
  language: string | null;
  emergency: boolean;
  species: string | null;
  /** `emergency`, `protected` or `normal` at request time. */
  priority: string;
  createdAt: Date;
  acceptedAt: Date | null;
  endedAt: Date | null;
}

/** A consultation with its transitions, offers and feedback, oldest first. */
export interface ConsultationAudit extends ConsultationDetail {
  events: Array<{ fromStatus: string | null; toStatus: string; at: Date; detail: unknown }>;
  offers: Array<{ vetId: number; offeredAt: Date; expiresAt: Date; outcome: string | null; resolvedAt: Date | null }>;
  feedback: { vetId: number; recommendation: string; reason: string; createdAt: Date; updatedAt: Date } | null;
}

/** Filters and page of {@link ConsultationReader.list}. */
export interface ConsultationListQuery {
  status?: string | undefined;
  appId?: number | undefined;
  vetId?: number | undefined;
  page: number;
  perPage: number;
}

const detailColumns = {
  ...recordColumns,
  source: consultations.source,
  requestedVetId: consultations.requestedVetId,
  endedBy: consultations.endedBy,
  endReason: consultations.endReason,
  acceptedAt: consultations.acceptedAt,
  language: consultations.language,
  emergency: consultations.emergency,
  species: consultations.species,
  priority: consultations.priority,
};

/**
 * Operator reads over the ledger's tables (`/admin/v1/consultations`, the CLI). Separate
 * from the {@link Ledger} so the engine's port stays as it is.
 */
export class ConsultationReader {
  constructor(private readonly db: Db) {}

  /** One consultation with its events, offers and feedback; null when unknown. */
  async audit(id: string): Promise<ConsultationAudit | null> {
    if (!UUID.test(id)) return null;
    const rows = await this.db.select(detailColumns).from(consultations).where(eq(consultations.id, id)).limit(1);
    const row = rows[0] as ConsultationDetail | undefined;
    if (!row) return null;
    const [events, offerRows, feedbackRows] = await Promise.all([
      this.db
        .select({ fromStatus: consultationEvents.fromStatus, toStatus: consultationEvents.toStatus, at: consultationEvents.at, detail: consultationEvents.detail })
        .from(consultationEvents)
        .where(eq(consultationEvents.consultationId, id))
        .orderBy(consultationEvents.at, consultationEvents.id),
      this.db
        .select({ vetId: offers.vetId, offeredAt: offers.offeredAt, expiresAt: offers.expiresAt, outcome: offers.outcome, resolvedAt: offers.resolvedAt })
        .from(offers)
        .where(eq(offers.consultationId, id))
        .orderBy(offers.offeredAt, offers.id),
      this.db
        .select({ vetId: feedback.vetId, recommendation: feedback.recommendation, reason: feedback.reason, createdAt: feedback.createdAt, updatedAt: feedback.updatedAt })
        .from(feedback)
        .where(eq(feedback.consultationId, id))
        .limit(1),
    ]);
    return { ...row, events, offers: offerRows, feedback: feedbackRows[0] ?? null };
  }

  /** One page of consultations, newest first; `total` counts every match. */
  async list(q: ConsultationListQuery): Promise<{ rows: ConsultationDetail[]; total: number }> {
    const conditions: SQL[] = [];
    if (q.status !== undefined) conditions.push(eq(consultations.status, q.status));
    if (q.appId !== undefined) conditions.push(eq(consultations.appId, q.appId));
    if (q.vetId !== undefined) conditions.push(eq(consultations.vetId, q.vetId));
    const where = conditions.length > 0 ? and(...conditions) : undefined;
    const [rows, totals] = await Promise.all([
      this.db
        .select(detailColumns)
        .from(consultations)
        .where(where)
        .orderBy(desc(consultations.createdAt), desc(consultations.id))
        .limit(q.perPage)
        .offset((q.page - 1) * q.perPage),
      this.db.select({ n: count() }).from(consultations).where(where),
    ]);
    return { rows: rows, total: totals[0]?.n ?? 0 };
  }
}

const PRIORITY_CLASSES = new Set<string>(["emergency", "protected", "normal"]);

/** A stored priority as the domain's class; anything unknown ranks as `normal`. */
const priorityClass = (p: string): PriorityClass => (PRIORITY_CLASSES.has(p) ? (p as PriorityClass) : "normal");

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Timestamps go over the wire as ISO text: cheaper than the driver's local-time formatting. */
const iso = (ms: number) => new Date(ms).toISOString();

const statement = (name: string, text: string): Statement => ({ name: `ledger_${name}`, text });

// The history writes are a few fixed statements, prepared once per connection on PostgreSQL.
// Casts are explicit so that PostgreSQL infers the same parameter types on every driver.

const CREATE = statement(
  "create",
  `with row as (
     insert into consultations
       (id, app_id, user_id, pet_id, type, source, status, requested_vet_id, vet_id,
        channel_sid, room_sid, created_at, accepted_at, updated_at, language, emergency, species, priority)
     values ($1::uuid, $2::integer, $3::integer, $4::integer, $5::text, $6::text, $7::text,
        $8::integer, $9::integer, $10::text, $11::text, $12::timestamptz, $13::timestamptz, $12::timestamptz,
        $15::text, $16::boolean, $17::text, $18::text)
     returning id)
   insert into consultation_events (consultation_id, from_status, to_status, detail, at)
   select id, null, $7::text, $14::jsonb, $12::timestamptz from row`,
);

/** Parameters $1–$10 of every transition statement, in order. */
function transitionValues(
  id: string,
  to: ConsultationStatus,
  atMs: number,
  patch: TransitionPatch,
  detail: Record<string, unknown> | undefined,
): unknown[] {
  return [
    id,
    to,
    iso(atMs),
    TERMINAL.has(to),
    detail ? JSON.stringify(detail) : null,
    patch.vetId ?? null,
    patch.channelSid ?? null,
    patch.roomSid ?? null,
    patch.endedBy ?? null,
    patch.endReason ?? null,
  ];
}

/**
 * Appends the event and applies the transition ($1 id, $2 status, $3 at, $4 terminal,
 * $5 detail, $6–$10 patch). The status moves only forward in time (`updated_at`) and never
 * out of a terminal status, because writes from several nodes can land out of order; patch
 * fields (vet, SIDs, end details) always apply. `cte` runs in the same statement.
 */
function transitionText(cte = ""): string {
  const guard = `(status not in ('ended', 'cancelled', 'expired') and ($4::boolean or updated_at <= $3::timestamptz))`;
  return `with ${cte} ev as (
      insert into consultation_events (consultation_id, from_status, to_status, detail, at)
      select id, status, $2::text, $5::jsonb, $3::timestamptz from consultations where id = $1::uuid)
    update consultations set
      status = case when ${guard} then $2::text else status end,
      ended_at = case when ${guard} and $4::boolean then $3::timestamptz else ended_at end,
      updated_at = case when ${guard} then $3::timestamptz else updated_at end,
      accepted_at = case when $2::text = 'active' then coalesce(accepted_at, $3::timestamptz) else accepted_at end,
      vet_id = coalesce($6::integer, vet_id),
      channel_sid = coalesce($7::text, channel_sid),
      room_sid = coalesce($8::text, room_sid),
      ended_by = coalesce($9::text, ended_by),
      end_reason = coalesce($10::text, end_reason)
    where id = $1::uuid`;
}

/** The newest unresolved offer of a pair (ids grow with time). */
const openOffer = (consultation: string, vet: string) =>
  `(select id from offers where consultation_id = ${consultation} and vet_id = ${vet} and outcome is null
    order by id desc limit 1)`;

const TRANSITION = statement("transition", transitionText());

/** A transition that also resolves the vet's offer: $11 outcome, $12 vet. */
const TRANSITION_RESOLVING_OFFER = statement(
  "transition_resolving_offer",
  transitionText(`resolved as (
      update offers set outcome = $11::text, resolved_at = $3::timestamptz
      where id = ${openOffer("$1::uuid", "$12::integer")}),`),
);

/**
 * A transition that resolves one known offer: $11 outcome, $12 vet, $13 offered at,
 * $14 expires at. The offer's row is inserted already resolved when its `offerMade` write
 * has not landed yet (that write then leaves it alone), so the order of the two does not matter.
 */
const TRANSITION_UPSERTING_OFFER = statement(
  "transition_upserting_offer",
  transitionText(`resolved as (
      insert into offers (consultation_id, vet_id, offered_at, expires_at, outcome, resolved_at)
      select id, $12::integer, $13::timestamptz, $14::timestamptz, $11::text, $3::timestamptz
      from consultations where id = $1::uuid
      on conflict (consultation_id, vet_id, offered_at) do update
        set outcome = excluded.outcome, resolved_at = excluded.resolved_at
        where offers.outcome is null),`),
);

/**
 * The `offered` transition with its offer row: $11 vet, $12 expires at. A row of the same
 * offer written first (resolved by an accept that landed before this) is kept as it is.
 */
const TRANSITION_MAKING_OFFER = statement(
  "transition_making_offer",
  transitionText(`offer as (
      insert into offers (consultation_id, vet_id, offered_at, expires_at)
      values ($1::uuid, $11::integer, $3::timestamptz, $12::timestamptz)
      on conflict (consultation_id, vet_id, offered_at) do nothing),`),
);

/** $1 consultation, $2 vet, $3 outcome, $4 at. */
const RESOLVE_OFFER = statement(
  "resolve_offer",
  `update offers set outcome = $3::text, resolved_at = $4::timestamptz where id = ${openOffer("$1::uuid", "$2::integer")}`,
);

/**
 * One known offer's outcome without a transition: $1 consultation, $2 vet, $3 outcome, $4 at,
 * $5 offered at, $6 expires at. Inserted already resolved when its `offerMade` has not landed.
 */
const UPSERT_RESOLVED_OFFER = statement(
  "upsert_resolved_offer",
  `insert into offers (consultation_id, vet_id, offered_at, expires_at, outcome, resolved_at)
   select id, $2::integer, $5::timestamptz, $6::timestamptz, $3::text, $4::timestamptz
   from consultations where id = $1::uuid
   on conflict (consultation_id, vet_id, offered_at) do update
     set outcome = excluded.outcome, resolved_at = excluded.resolved_at
     where offers.outcome is null`,
);

const SET_SIDS = statement(
  "set_sids",
  `update consultations set channel_sid = coalesce($2::text, channel_sid), room_sid = coalesce($3::text, room_sid)
   where id = $1::uuid`,
);

const NOTE = statement(
  "note",
  `insert into consultation_events (consultation_id, from_status, to_status, detail, at)
   select id, status, status, $2::jsonb, $3::timestamptz from consultations where id = $1::uuid`,
);
