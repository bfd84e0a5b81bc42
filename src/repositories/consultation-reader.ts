/** What operators read of consultations: one with its whole record, or a filtered page (`/admin/v1/consultations`, the CLI). */
import { and, count, desc, eq, type SQL } from "drizzle-orm";
import type { Db } from "../db/database.js";
import { consultationEvents, consultations, consultationVets, feedback, offers } from "../db/schema.js";
import { recordColumns, UUID } from "./ledger.js";

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
  /** Where the animal is (ISO 3166), or null. */
  region: string | null;
  /** `treatment` or `advice` (PROTOCOL §4). */
  care: string;
  adviceFallback: boolean;
  createdAt: Date;
  acceptedAt: Date | null;
  endedAt: Date | null;
  /** The feedback's outcome (PROTOCOL §10), or null (no feedback, or none given). */
  outcome: string | null;
}

/** A consultation with its transitions, offers and feedback, oldest first. */
export interface ConsultationAudit extends ConsultationDetail {
  events: Array<{ fromStatus: string | null; toStatus: string; at: Date; detail: unknown }>;
  offers: Array<{ vetId: number; offeredAt: Date; expiresAt: Date; outcome: string | null; resolvedAt: Date | null }>;
  feedback: {
    vetId: number;
    recommendation: string;
    reason: string;
    outcome: string | null;
    createdAt: Date;
    updatedAt: Date;
  } | null;
  /** Every vet who held it and when, oldest first (PROTOCOL §10). */
  vets: Array<{ vetId: number; joinedAt: Date; leftAt: Date | null }>;
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
  region: consultations.region,
  care: consultations.care,
  adviceFallback: consultations.adviceFallback,
  outcome: feedback.outcome,
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
    const rows = await this.db
      .select(detailColumns)
      .from(consultations)
      .leftJoin(feedback, eq(feedback.consultationId, consultations.id))
      .where(eq(consultations.id, id))
      .limit(1);
    const row = rows[0] as ConsultationDetail | undefined;
    if (!row) return null;
    const [events, offerRows, feedbackRows, spells] = await Promise.all([
      this.db
        .select({
          fromStatus: consultationEvents.fromStatus,
          toStatus: consultationEvents.toStatus,
          at: consultationEvents.at,
          detail: consultationEvents.detail,
        })
        .from(consultationEvents)
        .where(eq(consultationEvents.consultationId, id))
        .orderBy(consultationEvents.at, consultationEvents.id),
      this.db
        .select({
          vetId: offers.vetId,
          offeredAt: offers.offeredAt,
          expiresAt: offers.expiresAt,
          outcome: offers.outcome,
          resolvedAt: offers.resolvedAt,
        })
        .from(offers)
        .where(eq(offers.consultationId, id))
        .orderBy(offers.offeredAt, offers.id),
      this.db
        .select({
          vetId: feedback.vetId,
          recommendation: feedback.recommendation,
          reason: feedback.reason,
          outcome: feedback.outcome,
          createdAt: feedback.createdAt,
          updatedAt: feedback.updatedAt,
        })
        .from(feedback)
        .where(eq(feedback.consultationId, id))
        .limit(1),
      this.db
        .select({ vetId: consultationVets.vetId, joinedAt: consultationVets.joinedAt, leftAt: consultationVets.leftAt })
        .from(consultationVets)
        .where(eq(consultationVets.consultationId, id))
        .orderBy(consultationVets.joinedAt, consultationVets.vetId),
    ]);
    return { ...row, events, offers: offerRows, feedback: feedbackRows[0] ?? null, vets: spells };
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
        .leftJoin(feedback, eq(feedback.consultationId, consultations.id))
        .where(where)
        .orderBy(desc(consultations.createdAt), desc(consultations.id))
        .limit(q.perPage)
        .offset((q.page - 1) * q.perPage),
      this.db.select({ n: count() }).from(consultations).where(where),
    ]);
    return { rows: rows, total: totals[0]?.n ?? 0 };
  }
}
