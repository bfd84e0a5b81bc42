/** The {@link Ledger} in memory, for engine unit tests; `ledger-contract.ts` keeps it true to PostgreSQL's. */
import type { ConsultationRecord, FeedbackRecord, Ledger } from "../../src/domain/ports.js";
import type { LiveConsultation } from "../../src/domain/types.js";

/** Keeps history in arrays, mirroring what the PostgreSQL ledger stores. */
export class MemoryLedger implements Ledger {
  readonly rows = new Map<string, ConsultationRecord>();
  readonly transitions: Array<{ id: string; to: string; detail?: Record<string, unknown> }> = [];
  readonly offers: Array<{ consultationId: string; vetId: number; outcome: string | null }> = [];
  readonly feedback = new Map<string, FeedbackRecord & { vetId: number }>();

  create(c: LiveConsultation): Promise<void> {
    this.rows.set(c.id, {
      id: c.id,
      appId: c.appId,
      userId: c.userId,
      petId: c.petId,
      type: c.type,
      status: c.status,
      vetId: c.vetId,
      channelSid: null,
      roomSid: null,
      createdAt: new Date(c.createdAt),
      endedAt: null,
    });
    this.transitions.push({ id: c.id, to: c.status });
    return Promise.resolve();
  }
  transition(id: string, to: any, _at: number, patch: any = {}, detail?: Record<string, unknown>): Promise<void> {
    const r = this.rows.get(id);
    if (r) {
      r.status = to;
      if (patch.vetId !== undefined) r.vetId = patch.vetId;
      if (patch.channelSid !== undefined) r.channelSid = patch.channelSid;
      if (patch.resolvedOffer) {
        const o = this.offers.find((x) => x.consultationId === id && x.vetId === patch.resolvedOffer.vetId && x.outcome === null);
        if (o) o.outcome = patch.resolvedOffer.outcome;
      }
      if (patch.roomSid !== undefined) r.roomSid = patch.roomSid;
    }
    this.transitions.push({ id, to, ...(detail ? { detail } : {}) });
    return Promise.resolve();
  }
  setSids(id: string, sids: { channelSid?: string; roomSid?: string }): Promise<void> {
    const r = this.rows.get(id);
    if (r) Object.assign(r, sids);
    return Promise.resolve();
  }
  note(): Promise<void> {
    return Promise.resolve();
  }
  async offerMade(consultationId: string, vetId: number, _at: number, _exp: number, requested: boolean): Promise<void> {
    this.offers.push({ consultationId, vetId, outcome: null });
    await this.transition(consultationId, "offered", 0, {}, { vet_id: vetId, requested });
  }
  async offerEnded(consultationId: string, vetId: number, outcome: string, _at: number, requeued: boolean): Promise<void> {
    const o = this.offers.find((x) => x.consultationId === consultationId && x.vetId === vetId && x.outcome === null);
    if (o) o.outcome = outcome;
    if (requeued) await this.transition(consultationId, "queued", 0, {}, { offer_outcome: outcome, vet_id: vetId });
  }
  get(id: string): Promise<ConsultationRecord | null> {
    return Promise.resolve(this.rows.get(id) ?? null);
  }
  findByChannel(appId: number, sid: string): Promise<ConsultationRecord | null> {
    return Promise.resolve([...this.rows.values()].find((r) => r.appId === appId && r.channelSid === sid) ?? null);
  }
  findByRoom(appId: number, sid: string): Promise<ConsultationRecord | null> {
    return Promise.resolve([...this.rows.values()].find((r) => r.appId === appId && r.roomSid === sid) ?? null);
  }
  saveFeedback(consultationId: string, vetId: number, recommendation: string, reason: string, at: number): Promise<void> {
    const r = this.rows.get(consultationId)!;
    this.feedback.set(consultationId, {
      consultationId,
      vetId,
      type: r.type,
      vetFirstName: `First${vetId}`,
      vetLastName: `Last${vetId}`,
      recommendation,
      reason,
      updatedAt: new Date(at),
    });
    return Promise.resolve();
  }
  findFeedback(consultationId: string): Promise<FeedbackRecord | null> {
    return Promise.resolve(this.feedback.get(consultationId) ?? null);
  }
}
