/**
 * Feedback (PROTOCOL §4, §10): the vet's recommendation and outcome after a consultation.
 * Stored (a later one replaces it), relayed to the owner, and it ends the vet's wrap-up for
 * that consultation.
 */
import { AppError, notFound } from "../lib/app-error.js";
import type { Clock } from "../lib/clock.js";
import type { FeedbackPayload } from "../protocol/events.js";
import type { LedgerWriter } from "./ledger-writer.js";
import { checkOutcome } from "./outcomes.js";
import { storedFeedbackPayload } from "./outgoing-payloads.js";
import type { Directory, Ledger, Notifier } from "./ports.js";
import type { RoutingPass } from "./routing-pass.js";
import type { RoutingStore } from "./routing-store.js";
import type { ConsultationType } from "./types.js";

export interface FeedbackDeps {
  store: RoutingStore;
  /** Read only: closed consultations and stored feedback. Writes go through `ledgerWriter`. */
  ledger: Ledger;
  ledgerWriter: LedgerWriter;
  directory: Directory;
  notifier: Notifier;
  routingPass: RoutingPass;
  clock: Clock;
  /** `OUTCOMES`: the outcomes feedback may give. */
  outcomes: readonly string[];
}

export class Feedback {
  private readonly deps: FeedbackDeps;

  constructor(deps: FeedbackDeps) {
    this.deps = deps;
  }

  /**
   * `consult:feedback`: stored (a later one replaces it), relayed to the owner, and ends the
   * vet's wrap-up for this consultation. `outcome`, when given, must be one of `OUTCOMES`
   * (checked before anything else: a wrong one changes nothing).
   */
  async submit(
    vetId: number,
    consultationId: string,
    recommendation: string,
    reason: string,
    outcome?: string,
  ): Promise<void> {
    if (outcome !== undefined) checkOutcome(outcome, this.deps.outcomes);
    const live = await this.deps.store.getConsultation(consultationId);
    let type: ConsultationType;
    let appId: number;
    let userId: number;
    if (live) {
      if (live.vetId !== vetId) throw notFound("Consultation not found");
      if (live.status !== "active") throw new AppError(409, "The consultation has not started.");
      ({ type, appId, userId } = live);
    } else {
      const rec = await this.deps.ledger.get(consultationId);
      if (!rec || rec.vetId !== vetId) throw notFound("Consultation not found");
      if (rec.status !== "ended" && rec.status !== "active")
        throw new AppError(409, "The consultation has not started.");
      ({ type, appId, userId } = rec);
    }
    const at = this.deps.clock.now();
    await this.deps.ledgerWriter.writeThrough(consultationId, (l) =>
      l.saveFeedback(consultationId, vetId, recommendation, reason, at, outcome ?? null),
    );
    const vet = await this.deps.directory.vet(vetId);
    this.deps.notifier.toUser(appId, userId, "consult:feedback", {
      consultation_id: consultationId,
      type,
      vet_first_name: vet?.firstName ?? "",
      vet_last_name: vet?.lastName ?? "",
      recommendation,
      reason,
      outcome: outcome ?? null,
      feedback_date: new Date(at).toISOString(),
    });
    const presence = await this.deps.store.getVet(vetId);
    if (presence?.wrapupConsultationId === consultationId) {
      await this.deps.store.endWrapup(vetId, this.deps.clock.now());
      await this.deps.routingPass.run();
    }
  }

  /** REST `feedback`: by channel SID (chat) or room SID (video); 404 when none yet. */
  async find(
    appId: number,
    by: { channelSid: string } | { roomSid: string },
  ): Promise<Omit<FeedbackPayload, "consultation_id">> {
    const { ledger } = this.deps;
    const rec =
      "channelSid" in by
        ? await ledger.findByChannel(appId, by.channelSid)
        : await ledger.findByRoom(appId, by.roomSid);
    if (!rec) throw notFound("Consultation not found");
    const fb = await ledger.findFeedback(rec.id);
    if (!fb) throw notFound("Feedback not found");
    return storedFeedbackPayload(fb);
  }
}
