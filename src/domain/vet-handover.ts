/**
 * Vet resume and hand-over (PROTOCOL §3, §4). A vet console that reconnects gets
 * `consult:state` for each of its active consultations and its held offer again. A vet whose
 * last connection drops keeps its active consultations for `VET_GRACE_MS` (a `vet_grace`
 * deadline, ref = vet id); not back by then, or disabled by an operator, each consultation
 * goes back to the head of the queue with the same id, the owner is told (`consult:queued`,
 * `reason: "vet_left"`), and the next vet's offer says `transferred: true`. In live Twilio
 * mode the old vet leaves the Conversation here; the next vet joins it on accept
 * ({@link CallSetup.joinConversation}).
 */
import type { Clock } from "../lib/clock.js";
import type { Logger } from "../lib/logger.js";
import type { OfferPayload, VetStatePayload } from "../protocol/events.js";
import type { RoutingConfig } from "./engine-config.js";
import type { LedgerWriter } from "./ledger-writer.js";
import type { Lifecycle } from "./lifecycle.js";
import { endedPayload, offerPayload, type PayloadBuilder } from "./outgoing-payloads.js";
import type { Notifier, TokenMinter, TwilioProvider } from "./ports.js";
import type { QueuePositions } from "./queue-positions.js";
import type { RoutingPass } from "./routing-pass.js";
import type { RoutingStore } from "./routing-store.js";
import { publicId, type VetPresence } from "./types.js";
import { revokeReferralOffer, type Referrals } from "./referrals.js";

/** A hand-over the database refused is tried again after this long. */
export const HANDOVER_RETRY_MS = 1000;

/** Why a vet's consultations are handed over: grace ran out, or an operator disabled the vet. */
export type HandoverCause = "vet_left" | "vet_disabled";

export interface VetHandoverDeps {
  store: RoutingStore;
  ledgerWriter: LedgerWriter;
  notifier: Notifier;
  positions: QueuePositions;
  routingPass: RoutingPass;
  lifecycle: Lifecycle;
  payloads: PayloadBuilder;
  twilio: TwilioProvider;
  tokens: TokenMinter;
  clock: Clock;
  logger: Logger;
  routing: RoutingConfig;
  /** Referrals (PROTOCOL §10): a pending one is withdrawn, a warm overlap's first vet leaves. */
  referrals?: Referrals | undefined;
}

/** What a reconnecting vet console is sent (PROTOCOL §3). */
export interface VetResume {
  /** One `consult:state` per active consultation, each with a fresh vet token. */
  states: VetStatePayload[];
  /** The offer the vet still holds, sent again as `consult:offer` (same `expires_at`). */
  offer: OfferPayload | null;
}

export class VetHandover {
  private readonly deps: VetHandoverDeps;

  constructor(deps: VetHandoverDeps) {
    this.deps = deps;
  }

  /** A vet connected: a running grace period ends (nothing changes) and what to resume is returned. */
  async resume(vetId: number): Promise<VetResume> {
    const { store, payloads } = this.deps;
    await store.removeDeadline("vet_grace", String(vetId));
    const vet = await store.getVet(vetId);
    if (!vet) return { states: [], offer: null };
    const states: VetStatePayload[] = [];
    for (const id of vet.activeConsultationIds) {
      const c = await store.getConsultation(id);
      // A warm referral's first vet resumes it too, marked `leaving` (PROTOCOL §10).
      if (c?.status === "active" && (c.vetId === vetId || c.leavingVetId === vetId))
        states.push(await payloads.vetState(c, vetId));
    }
    let offer: OfferPayload | null = null;
    if (vet.offerConsultationId) {
      const c = await store.getConsultation(vet.offerConsultationId);
      if (c?.offer?.vetId === vetId) offer = offerPayload(c, c.requestedVetId === vetId, c.offer.expiresAt);
    }
    return { states, offer };
  }

  /**
   * A vet's connection count changed to `presence`: when none is left and it still holds
   * active consultations, its grace period starts (at once hand-over when `VET_GRACE_MS` is 0).
   */
  async afterDisconnect(presence: VetPresence | null): Promise<void> {
    if (!presence || presence.connections > 0 || presence.activeConsultationIds.length === 0) return;
    const { store, clock, routing } = this.deps;
    if (routing.vetGraceMs === 0) await this.handOverAll(presence.vetId, "vet_left");
    else await store.addDeadline("vet_grace", String(presence.vetId), clock.now() + routing.vetGraceMs);
  }

  /** The `vet_grace` deadline: a vet still offline hands over every active consultation. */
  async graceExpired(vetId: number): Promise<void> {
    const vet = await this.deps.store.getVet(vetId);
    if (!vet || vet.connections > 0) return; // back in time: nothing changes
    await this.handOverAll(vetId, "vet_left");
  }

  /**
   * An operator disabled the vet (their sockets are being closed): no new offers (away, a
   * held offer goes to the next vet), and every active consultation is handed over at once.
   */
  async disable(vetId: number): Promise<void> {
    const { store, lifecycle, clock, notifier } = this.deps;
    const { released, offer } = await store.setVetStatus(vetId, "away", clock.now());
    if (released) {
      lifecycle.offerEnded(released.id, vetId, "away", offer);
      notifier.toVet(vetId, "consult:offer_revoked", { consultation_id: publicId(released), reason: "cancelled" });
    }
    await store.removeDeadline("vet_grace", String(vetId));
    await this.handOverAll(vetId, "vet_disabled");
  }

  /**
   * Hands each active consultation of the vet to the head of the queue, then routes them.
   * One the database refused stays with the vet, nobody told, and is tried again after
   * {@link HANDOVER_RETRY_MS} (the `vet_grace` deadline again).
   */
  private async handOverAll(vetId: number, cause: HandoverCause): Promise<void> {
    const { store, clock, logger } = this.deps;
    const vet = await store.getVet(vetId);
    let moved = 0;
    let retry = false;
    for (const id of vet?.activeConsultationIds ?? []) {
      try {
        if (await this.handOver(id, vetId, cause)) moved++;
      } catch (err) {
        retry = true;
        logger.warn({ err, vetId, consultationId: id }, "vet hand-over not recorded: tried again later");
      }
    }
    if (retry) await store.addDeadline("vet_grace", String(vetId), clock.now() + HANDOVER_RETRY_MS);
    if (moved > 0) await this.deps.routingPass.run();
  }

  /**
   * One consultation. Record first (PROTOCOL §6): active → queued (reason `vet_left`) is
   * written, then the store step moves it, then the owner is told; the old vet leaves the
   * Conversation in the background. A refused write throws with nothing changed. A store
   * step that finds nothing to move (the vet came back or it ended, racing the write) puts
   * the record back to active, behind (a recorded end stays: terminal).
   */
  private async handOver(consultationId: string, vetId: number, cause: HandoverCause): Promise<boolean> {
    const { store, ledgerWriter, positions, clock, routing, twilio, tokens, logger } = this.deps;
    const before = await store.getConsultation(consultationId);
    // A warm referral's first vet who did not come back just leaves it to the next vet (PROTOCOL §10).
    if (before?.status === "active" && before.leavingVetId === vetId && this.deps.referrals) {
      await this.deps.referrals.leave(vetId, consultationId);
      return false;
    }
    if (before?.status !== "active" || before.vetId !== vetId) return false;
    // A referral pending while its vet left is withdrawn: the consultation goes to the queue instead.
    if (before.referral) {
      const ended = await store.endReferral(consultationId);
      if (ended) revokeReferralOffer(this.deps, consultationId, ended);
    }
    const now = clock.now();
    await ledgerWriter.writeThrough(consultationId, (l) =>
      l.transition(consultationId, "queued", now, {}, { reason: "vet_left", from_vet_id: vetId, cause }),
    );
    // After grace the step itself checks the vet is still offline: a reconnect racing the deadline wins.
    const r = await store.transfer(consultationId, now, now + routing.queueTimeoutMs, {
      ifVetOffline: cause === "vet_left",
    });
    if (!r) {
      const still = await store.getConsultation(consultationId);
      if (still?.status === "active" && still.vetId === vetId) {
        ledgerWriter.writeBehind(consultationId, (l) =>
          l.transition(consultationId, "active", clock.now(), { vetId }, { reason: "vet_back", cause }),
        );
      }
      return false;
    }
    const c = r.consultation;
    logger.info({ consultationId: c.id, vetId: r.fromVetId, cause }, "active consultation handed over");
    positions.joined(c, r.position, "vet_left");
    // A warm referral's first vet, still in it, let go with the step: for that vet it is over.
    const leaving = before.leavingVetId;
    if (leaving != null) this.deps.notifier.toVet(leaving, "consult:ended", endedPayload(c.id, "system", "vet_left"));
    // An owner offline now had no grace while active (PROTOCOL §4): it starts with the wait.
    if ((await store.userConnectionCount(c.appId, c.userId)) === 0)
      await this.deps.lifecycle.startGrace(c.appId, c.userId);
    if (c.channelSid && twilio.mode === "live") {
      for (const gone of leaving != null ? [r.fromVetId, leaving] : [r.fromVetId]) {
        twilio
          .removeParticipant(c.channelSid, tokens.forVet(gone).identity)
          .catch((err: unknown) =>
            logger.warn({ err, consultationId: c.id }, "removing the old vet from the conversation failed"),
          );
      }
    }
    return true;
  }
}
