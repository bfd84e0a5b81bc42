/**
 * A pet's history (PROTOCOL §10): its past consultations in its app, newest first, and who
 * may read them. Past: ended, with a vet (a request cancelled or expired before any vet took
 * it is not a consultation); open ones, the vet's current one included, are never listed.
 */
import { and, count, desc, eq, isNotNull, sql } from "drizzle-orm";
import type { Db } from "../db/database.js";
import { consultations, consultationVets, feedback, vets } from "../db/schema.js";

/** One past consultation of a pet. */
export interface PetHistoryItem {
  consultationId: string;
  type: string;
  /** When the vet took it (the consultation's start). */
  startedAt: Date;
  endedAt: Date | null;
  /** The vet who held it last (the one who gave the feedback), or null. */
  vetId: number | null;
  vetFirstName: string | null;
  vetLastName: string | null;
  /** Feedback: null each when none was given. */
  recommendation: string | null;
  reason: string | null;
  outcome: string | null;
}

/** Reads pets' histories. */
export class PetHistoryReader {
  constructor(private readonly db: Db) {}

  /**
   * True when the vet holds or held a consultation about the pet (a row of
   * `consultation_vets`, written in the statement that makes it active). An offer the vet
   * holds now is known only to the live state; the caller checks that.
   */
  async vetHeldPet(vetId: number, petId: number): Promise<boolean> {
    const rows = await this.db
      .select({ one: sql<number>`1` })
      .from(consultations)
      .innerJoin(consultationVets, eq(consultationVets.consultationId, consultations.id))
      .where(and(eq(consultations.petId, petId), eq(consultationVets.vetId, vetId)))
      .limit(1);
    return rows.length > 0;
  }

  /** One page (1-based) of the pet's past consultations, newest first; `total` counts them all. */
  async page(petId: number, page: number, perPage: number): Promise<{ rows: PetHistoryItem[]; total: number }> {
    const past = and(
      eq(consultations.petId, petId),
      eq(consultations.status, "ended"),
      isNotNull(consultations.acceptedAt),
    );
    const [rows, totals] = await Promise.all([
      this.db
        .select({
          consultationId: consultations.id,
          type: consultations.type,
          startedAt: consultations.acceptedAt,
          endedAt: consultations.endedAt,
          vetId: consultations.vetId,
          vetFirstName: vets.firstName,
          vetLastName: vets.lastName,
          recommendation: feedback.recommendation,
          reason: feedback.reason,
          outcome: feedback.outcome,
        })
        .from(consultations)
        .leftJoin(vets, eq(vets.id, consultations.vetId))
        .leftJoin(feedback, eq(feedback.consultationId, consultations.id))
        .where(past)
        // consultations_pet (pet_id, created_at): one pet's rows, already in order.
        .orderBy(desc(consultations.createdAt), desc(consultations.id))
        .limit(perPage)
        .offset((page - 1) * perPage),
      this.db.select({ n: count() }).from(consultations).where(past),
    ]);
    return { rows: rows.map((r) => ({ ...r, startedAt: r.startedAt! })), total: totals[0]?.n ?? 0 };
  }
}
