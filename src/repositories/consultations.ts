import { and, desc, eq, isNull, lte, sql } from "drizzle-orm";
import type { Db } from "../db/database.js";
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
  constructor(private readonly db: Db) {}

  async create(c: LiveConsultation, source: "socket" | "rest"): Promise<void> {
    const at = new Date(c.createdAt);
    await this.db.transaction(async (tx) => {
      await tx.insert(consultations).values({
        id: c.id,
        appId: c.appId,
        userId: c.userId,
        petId: c.petId,
        type: c.type,
        source,
        status: c.status,
        requestedVetId: c.requestedVetId,
        vetId: c.vetId,
        channelSid: c.channelSid,
        roomSid: c.roomSid,
        createdAt: at,
        acceptedAt: c.acceptedAt === null ? null : new Date(c.acceptedAt),
        updatedAt: at,
      });
      await tx.insert(consultationEvents).values({
        consultationId: c.id,
        fromStatus: null,
        toStatus: c.status,
        detail: { source, ...(c.vetId !== null ? { vet_id: c.vetId } : {}) },
        at,
      });
    });
  }

  async transition(
    id: string,
    to: ConsultationStatus,
    atMs: number,
    patch: TransitionPatch = {},
    detail?: Record<string, unknown>,
  ): Promise<void> {
    const at = new Date(atMs);
    await this.db.transaction(async (tx) => {
      const [prev] = await tx
        .select({ status: consultations.status })
        .from(consultations)
        .where(eq(consultations.id, id))
        .for("update");
      await tx.insert(consultationEvents).values({
        consultationId: id,
        fromStatus: prev?.status ?? null,
        toStatus: to,
        detail: detail ?? null,
        at,
      });
      if (!prev || TERMINAL.has(prev.status as ConsultationStatus)) return;
      await tx
        .update(consultations)
        .set({
          status: to,
          updatedAt: at,
          ...(patch.vetId !== undefined ? { vetId: patch.vetId } : {}),
          ...(patch.channelSid !== undefined ? { channelSid: patch.channelSid } : {}),
          ...(patch.roomSid !== undefined ? { roomSid: patch.roomSid } : {}),
          ...(patch.endedBy !== undefined ? { endedBy: patch.endedBy } : {}),
          ...(patch.endReason !== undefined ? { endReason: patch.endReason } : {}),
          ...(to === "active" ? { acceptedAt: at } : {}),
          ...(TERMINAL.has(to) ? { endedAt: at } : {}),
        })
        .where(and(eq(consultations.id, id), TERMINAL.has(to) ? undefined : lte(consultations.updatedAt, at)));
    });
  }

  async setSids(id: string, sids: { channelSid?: string; roomSid?: string }): Promise<void> {
    if (sids.channelSid === undefined && sids.roomSid === undefined) return;
    await this.db.update(consultations).set(sids).where(eq(consultations.id, id));
  }

  async note(id: string, atMs: number, detail: Record<string, unknown>): Promise<void> {
    const [row] = await this.db.select({ status: consultations.status }).from(consultations).where(eq(consultations.id, id));
    if (!row) return;
    await this.db.insert(consultationEvents).values({
      consultationId: id,
      fromStatus: row.status,
      toStatus: row.status,
      detail,
      at: new Date(atMs),
    });
  }

  async recordOffer(consultationId: string, vetId: number, offeredAt: number, expiresAt: number): Promise<void> {
    await this.db.insert(offers).values({
      consultationId,
      vetId,
      offeredAt: new Date(offeredAt),
      expiresAt: new Date(expiresAt),
    });
  }

  async resolveOffer(consultationId: string, vetId: number, outcome: OfferOutcome, at: number): Promise<void> {
    // The newest unresolved offer of this pair; ids grow with time.
    const open = this.db
      .select({ id: offers.id })
      .from(offers)
      .where(and(eq(offers.consultationId, consultationId), eq(offers.vetId, vetId), isNull(offers.outcome)))
      .orderBy(desc(offers.id))
      .limit(1);
    await this.db
      .update(offers)
      .set({ outcome, resolvedAt: new Date(at) })
      .where(eq(offers.id, sql`(${open})`));
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
