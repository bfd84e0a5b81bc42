/**
 * Ends and cancels asked by the owner, the partner (by channel SID) or the vet: each checks
 * who may, then closes through the lifecycle. Idempotent: a consultation already closed in
 * the database answers success; one still open there but missing from the live state (being
 * rebuilt) answers 503, never a success the database lacks (PROTOCOL §6).
 */
import { AppError, notFound } from "../lib/app-error.js";
import { StorageUnavailableError } from "./errors.js";
import type { Lifecycle } from "./lifecycle.js";
import type { ConsultationRecord, Ledger } from "./ports.js";
import type { RoutingStore } from "./routing-store.js";
import type { LiveConsultation } from "./types.js";

export interface EndingDeps {
  store: RoutingStore;
  ledger: Pick<Ledger, "get" | "findByChannel">;
  lifecycle: Pick<Lifecycle, "close">;
}

export class Ending {
  constructor(private readonly deps: EndingDeps) {}

  /** `consult:cancel` by the owner (queued or offered only). */
  async cancel(appId: number, userId: number, consultationId: string): Promise<void> {
    const c = await this.ownedLive(appId, userId, consultationId);
    if (!c) {
      await this.ownedRecord(appId, userId, consultationId);
      return; // already closed: idempotent
    }
    if (c.status === "active") throw new AppError(409, "The consultation is active; end it instead.");
    await this.deps.lifecycle.close(c.id, "cancelled", { endedBy: "user" });
  }

  /** `consult:end` by the owner; a request not yet active is cancelled. */
  async endByUser(appId: number, userId: number, consultationId: string): Promise<void> {
    const c = await this.ownedLive(appId, userId, consultationId);
    if (!c) {
      await this.ownedRecord(appId, userId, consultationId);
      return;
    }
    await this.deps.lifecycle.close(c.id, c.status === "active" ? "ended" : "cancelled", { endedBy: "user" }, c);
  }

  /** REST `end` by channel SID: 404 when no consultation of this app has it. */
  async endByChannel(appId: number, channelSid: string): Promise<void> {
    const rec = await this.deps.ledger.findByChannel(appId, channelSid);
    if (!rec) throw notFound("Consultation not found");
    const live = await this.deps.store.getConsultation(rec.id);
    if (live)
      await this.deps.lifecycle.close(
        live.id,
        live.status === "active" ? "ended" : "cancelled",
        { endedBy: "user" },
        live,
      );
    else closedOrUnavailable(rec);
  }

  /** `consult:end` by the assigned vet. */
  async endByVet(vetId: number, consultationId: string): Promise<void> {
    const c = await this.deps.store.getConsultation(consultationId);
    if (c) {
      if (c.vetId !== vetId) throw notFound("Consultation not found");
      await this.deps.lifecycle.close(c.id, "ended", { endedBy: "vet" }, c);
      return;
    }
    const rec = await this.deps.ledger.get(consultationId);
    if (!rec || rec.vetId !== vetId) throw notFound("Consultation not found");
    closedOrUnavailable(rec);
  }

  private async ownedLive(appId: number, userId: number, id: string): Promise<LiveConsultation | null> {
    const c = await this.deps.store.getConsultation(id);
    if (c && (c.appId !== appId || c.userId !== userId)) throw notFound("Consultation not found");
    return c;
  }

  private async ownedRecord(appId: number, userId: number, id: string): Promise<void> {
    const rec = await this.deps.ledger.get(id);
    if (!rec || rec.appId !== appId || rec.userId !== userId) throw notFound("Consultation not found");
    closedOrUnavailable(rec);
  }
}

/** No live state: success only when the database has it closed; still open there → 503. */
function closedOrUnavailable(rec: ConsultationRecord): void {
  if (rec.status === "queued" || rec.status === "offered" || rec.status === "active")
    throw new StorageUnavailableError(5);
}
