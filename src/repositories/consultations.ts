import { eq, and, sql, type SQL } from "drizzle-orm";
import type { Database, Db, HistoryWrite } from "../db/database.js";
import { consultationEvents, consultations, feedback, offers, vets } from "../db/schema.js";
import type {
  ConsultationRecord,
  FeedbackRecord,
  Ledger,
  TransitionPatch,
} from "../domain/ports.js";
import type { ConsultationStatus, ConsultationType, LiveConsultation, OfferOutcome } from "../domain/types.js";

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
  /**
   * `db` for reads and feedback; `writers.write` for the request row, durable before routing
   * sees it; `writers.historyWrite` for transitions and offers, written behind the hot path.
   * Without `writers`, everything goes through `db`.
   */
  constructor(
    private readonly db: Db,
    writers?: Pick<Database, "write" | "historyWrite">,
  ) {
    const plain: HistoryWrite = async (q) => void (await db.execute(q));
    this.durable = writers?.write ?? plain;
    this.write = writers?.historyWrite ?? plain;
  }

  /** Durable writes: the request row (written before routing sees the request). */
  private readonly durable: HistoryWrite;
  /** History written behind the hot path. */
  private readonly write: HistoryWrite;

  async create(c: LiveConsultation, source: "socket" | "rest"): Promise<void> {
    const at = new Date(c.createdAt);
    const detail = JSON.stringify({ source, ...(c.vetId !== null ? { vet_id: c.vetId } : {}) });
    // One statement: the row and its first event, in a single round trip.
    await this.durable(sql`
      with row as (
        insert into consultations
          (id, app_id, user_id, pet_id, type, source, status, requested_vet_id, vet_id,
           channel_sid, room_sid, created_at, accepted_at, updated_at)
        values (${c.id}, ${c.appId}, ${c.userId}, ${c.petId}, ${c.type}, ${source}, ${c.status},
           ${c.requestedVetId}, ${c.vetId}, ${c.channelSid}, ${c.roomSid}, ${at},
           ${c.acceptedAt === null ? null : new Date(c.acceptedAt)}, ${at})
        returning id)
      insert into consultation_events (consultation_id, from_status, to_status, detail, at)
      select id, null, ${c.status}, ${detail}::jsonb, ${at} from row`);
  }

  async transition(
    id: string,
    to: ConsultationStatus,
    atMs: number,
    patch: TransitionPatch = {},
    detail?: Record<string, unknown>,
  ): Promise<void> {
    const at = new Date(atMs);
    const r = patch.resolvedOffer;
    const also = r ? sql`resolved as (${resolveOfferSql(id, r.vetId, r.outcome, at)})` : undefined;
    await this.write(transitionSql(id, to, at, patch, detail, also));
  }

  async offerMade(consultationId: string, vetId: number, offeredAt: number, expiresAt: number, requested: boolean): Promise<void> {
    const at = new Date(offeredAt);
    const offer = sql`offer as (
        insert into offers (consultation_id, vet_id, offered_at, expires_at)
        values (${consultationId}, ${vetId}, ${at}, ${new Date(expiresAt)}))`;
    await this.write(transitionSql(consultationId, "offered", at, {}, { vet_id: vetId, requested }, offer));
  }

  async offerEnded(consultationId: string, vetId: number, outcome: OfferOutcome, atMs: number, requeued: boolean): Promise<void> {
    const at = new Date(atMs);
    const resolve = resolveOfferSql(consultationId, vetId, outcome, at);
    if (!requeued) {
      await this.write(resolve);
      return;
    }
    const resolved = sql`resolved as (${resolve})`;
    await this.write(transitionSql(consultationId, "queued", at, {}, { offer_outcome: outcome, vet_id: vetId }, resolved));
  }

  async setSids(id: string, sids: { channelSid?: string; roomSid?: string }): Promise<void> {
    if (sids.channelSid === undefined && sids.roomSid === undefined) return;
    await this.write(sql`
      update consultations set channel_sid = coalesce(${sids.channelSid ?? null}, channel_sid),
        room_sid = coalesce(${sids.roomSid ?? null}, room_sid)
      where id = ${id}`);
  }

  async note(id: string, atMs: number, detail: Record<string, unknown>): Promise<void> {
    await this.write(sql`
      insert into consultation_events (consultation_id, from_status, to_status, detail, at)
      select id, status, status, ${JSON.stringify(detail)}::jsonb, ${new Date(atMs)}
      from consultations where id = ${id}`);
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

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Resolves the newest unresolved offer of this pair (ids grow with time). */
function resolveOfferSql(consultationId: string, vetId: number, outcome: OfferOutcome, at: Date) {
  return sql`
    update offers set outcome = ${outcome}, resolved_at = ${at}
    where id = (select id from offers
                where consultation_id = ${consultationId} and vet_id = ${vetId} and outcome is null
                order by id desc limit 1)`;
}

/**
 * One statement that appends the event and applies the transition. The status moves only
 * forward in time (`updated_at`) and never out of a terminal status, because writes from
 * several nodes can land out of order; patch fields (vet, SIDs, end details) always apply.
 */
function transitionSql(
  id: string,
  to: ConsultationStatus,
  at: Date,
  patch: TransitionPatch,
  detail?: Record<string, unknown>,
  /** A further common table expression run in the same statement (e.g. the offer row). */
  also?: SQL,
) {
  const terminal = TERMINAL.has(to);
  const guard = sql`(status not in ('ended', 'cancelled', 'expired') and (${terminal} or updated_at <= ${at}))`;
  return sql`
    with ${also ? sql`${also},` : sql``} ev as (
      insert into consultation_events (consultation_id, from_status, to_status, detail, at)
      select id, status, ${to}, ${detail ? JSON.stringify(detail) : null}::jsonb, ${at}
      from consultations where id = ${id})
    update consultations set
      status = case when ${guard} then ${to} else status end,
      ended_at = case when ${guard} and ${terminal} then ${at} else ended_at end,
      updated_at = case when ${guard} then ${at} else updated_at end,
      accepted_at = case when ${to} = 'active' then coalesce(accepted_at, ${at}) else accepted_at end,
      vet_id = coalesce(${patch.vetId ?? null}::integer, vet_id),
      channel_sid = coalesce(${patch.channelSid ?? null}, channel_sid),
      room_sid = coalesce(${patch.roomSid ?? null}, room_sid),
      ended_by = coalesce(${patch.endedBy ?? null}, ended_by),
      end_reason = coalesce(${patch.endReason ?? null}, end_reason)
    where id = ${id}`;
}
