import { and, asc, eq, gt, inArray, isNotNull, isNull, sql } from "drizzle-orm";
import type { Database, Db, StatementQuery, StatementRunner } from "../db/database.js";
import { consultationEvents, consultations, feedback, offers, vets } from "../db/schema.js";
import type {
  ConsultationRecord,
  FeedbackRecord,
  Ledger,
  OpenConsultationRecord,
  TransitionPatch,
  WrapupRecord,
} from "../domain/ports.js";
import type {
  Care,
  ConsultationStatus,
  ConsultationType,
  LiveConsultation,
  OfferOutcome,
  OpenStatus,
  PriorityClass,
} from "../domain/types.js";
import {
  CHANGE_CARE,
  CREATE,
  iso,
  NOTE,
  REFERRAL_ACCEPTED,
  REFERRAL_OFFERED,
  RESOLVE_OFFER,
  SAVE_FEEDBACK,
  SET_SIDS,
  TRANSITION,
  TRANSITION_MAKING_OFFER,
  TRANSITION_RESOLVING_OFFER,
  TRANSITION_UPSERTING_OFFER,
  transitionValues,
  UPSERT_RESOLVED_OFFER,
  VET_LEFT,
} from "./ledger-statements.js";

export const recordColumns = {
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

type Row = { [K in keyof typeof recordColumns]: unknown };
const toRecord = (r: Row): ConsultationRecord => r as ConsultationRecord;

/**
 * The PostgreSQL {@link Ledger}: consultations, every transition, offers with their outcome,
 * and feedback. Writes from several nodes may land out of order; a status only moves
 * forward in time (`updated_at` guard), and terminal statuses are never overwritten.
 */
export class ConsultationLedger implements Ledger {
  private readonly db: Db;
  /** Durable writes: the request row (written before routing sees the request). */
  private readonly durable: StatementRunner;
  /** Ledger writes behind the hot path. */
  private readonly write: StatementRunner;
  /** Durable writes that answer rows. */
  private readonly query: StatementQuery;

  /**
   * Reads and feedback go through `database.db`; the request row through `database.write`,
   * durable before routing sees it; transitions and offers through `database.writeBehind`,
   * written behind the hot path. Those writes are fixed statements: nothing is built per call.
   */
  constructor(database: Pick<Database, "db" | "write" | "writeBehind" | "query">) {
    this.db = database.db;
    this.query = database.query;
    this.durable = database.write;
    this.write = database.writeBehind;
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
      c.region ?? null,
      c.care ?? "treatment",
      c.adviceFallback === true,
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

  async offerMade(
    consultationId: string,
    vetId: number,
    offeredAt: number,
    expiresAt: number,
    requested: boolean,
  ): Promise<void> {
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
      if (offer)
        await this.write(UPSERT_RESOLVED_OFFER, [
          consultationId,
          vetId,
          outcome,
          iso(atMs),
          iso(offer.offeredAt),
          iso(offer.expiresAt),
        ]);
      else await this.write(RESOLVE_OFFER, [consultationId, vetId, outcome, iso(atMs)]);
      return;
    }
    const values = transitionValues(consultationId, "queued", atMs, {}, { offer_outcome: outcome, vet_id: vetId });
    if (offer)
      await this.write(TRANSITION_UPSERTING_OFFER, [
        ...values,
        outcome,
        vetId,
        iso(offer.offeredAt),
        iso(offer.expiresAt),
      ]);
    else await this.write(TRANSITION_RESOLVING_OFFER, [...values, outcome, vetId]);
  }

  async setSids(id: string, sids: { channelSid?: string; roomSid?: string }): Promise<void> {
    if (sids.channelSid === undefined && sids.roomSid === undefined) return;
    await this.write(SET_SIDS, [id, sids.channelSid ?? null, sids.roomSid ?? null]);
  }

  async changeCare(id: string, care: Care, atMs: number, detail: Record<string, unknown>): Promise<boolean> {
    const rows = await this.query<{ id: string }>(CHANGE_CARE, [id, care, iso(atMs), JSON.stringify(detail)]);
    return rows.length > 0;
  }

  async referralOffered(consultationId: string, vetId: number, offeredAt: number, expiresAt: number): Promise<void> {
    const detail = JSON.stringify({ referral: "offered", vet_id: vetId });
    await this.write(REFERRAL_OFFERED, [consultationId, vetId, iso(offeredAt), iso(expiresAt), detail]);
  }

  async referralAccepted(
    consultationId: string,
    toVetId: number,
    fromVetId: number,
    cold: boolean,
    atMs: number,
    offer: { offeredAt: number; expiresAt: number },
    detail: Record<string, unknown>,
  ): Promise<void> {
    await this.durable(REFERRAL_ACCEPTED, [
      consultationId,
      toVetId,
      iso(atMs),
      fromVetId,
      cold,
      JSON.stringify(detail),
      iso(offer.offeredAt),
      iso(offer.expiresAt),
    ]);
  }

  async vetLeft(consultationId: string, vetId: number, atMs: number, detail: Record<string, unknown>): Promise<void> {
    await this.durable(VET_LEFT, [consultationId, vetId, iso(atMs), JSON.stringify(detail)]);
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

  async saveFeedback(
    consultationId: string,
    vetId: number,
    recommendation: string,
    reason: string,
    atMs: number,
    outcome: string | null = null,
  ): Promise<void> {
    // With its `feedback.submitted` webhook row, in one statement (PROTOCOL §9).
    await this.durable(SAVE_FEEDBACK, [consultationId, vetId, recommendation, reason, iso(atMs), outcome]);
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
        outcome: feedback.outcome,
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
        region: consultations.region,
        care: consultations.care,
        adviceFallback: consultations.adviceFallback,
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
      care: careOf(r.care),
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
    return rows.map((r) => ({
      vetId: r.vetId ?? 0,
      consultationId: r.consultationId,
      endedAt: r.endedAt?.getTime() ?? 0,
    }));
  }

  /** Every transition of one consultation, oldest first (its timeline: tests, support). */
  async history(id: string): Promise<Array<{ from: string | null; to: string; at: Date; detail: unknown }>> {
    const rows = await this.db
      .select({
        from: consultationEvents.fromStatus,
        to: consultationEvents.toStatus,
        at: consultationEvents.at,
        detail: consultationEvents.detail,
      })
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

const PRIORITY_CLASSES = new Set<string>(["emergency", "protected", "normal"]);

/** A stored priority as the domain's class; anything unknown ranks as `normal`. */
export const priorityClass = (p: string): PriorityClass => (PRIORITY_CLASSES.has(p) ? (p as PriorityClass) : "normal");

/** A stored care as the domain's; anything unknown is the stricter `treatment`. */
export const careOf = (c: string): Care => (c === "advice" ? "advice" : "treatment");

export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
