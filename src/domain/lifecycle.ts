/**
 * How consultations and offers end: closing a consultation for good (ended, cancelled,
 * expired), recording an offer's outcome, and the owner's grace after their last socket.
 * Shared by the commands of the engine and by the timekeeper's deadlines.
 */
import type { Clock } from "../lib/clock.js";
import type { OfferRevokedReason } from "../protocol/events.js";
import type { CallSetup } from "./call-setup.js";
import type { EngineObserver, RoutingConfig } from "./engine-config.js";
import type { LedgerWriter } from "./ledger-writer.js";
import { endedPayload } from "./outgoing-payloads.js";
import type { Notifier } from "./ports.js";
import type { QueuePositions } from "./queue-positions.js";
import type { RoutingPass } from "./routing-pass.js";
import type { FinishResult, RoutingStore } from "./routing-store.js";
import { isReferralEntryId, type EndedBy, type HeldOffer, type LiveConsultation, type OfferOutcome } from "./types.js";
import { revokeReferralOffer, type Referrals } from "./referrals.js";
import { StorageUnavailableError } from "./errors.js";
import type { Logger } from "../lib/logger.js";

export type FinalStatus = "ended" | "cancelled" | "expired";

// A deadline whose close the database refused is tried again after this long.
const DEADLINE_RETRY_MS = 1000;

export interface LifecycleDeps {
  store: RoutingStore;
  ledgerWriter: LedgerWriter;
  notifier: Notifier;
  positions: QueuePositions;
  calls: CallSetup;
  routingPass: RoutingPass;
  clock: Clock;
  logger: Logger;
  routing: RoutingConfig;
  observer?: EngineObserver | undefined;
  /** Referrals (PROTOCOL §10): their entries' offers, and a referral withdrawn when its consultation closes. */
  referrals?: Referrals | undefined;
}

export class Lifecycle {
  private readonly deps: LifecycleDeps;

  constructor(deps: LifecycleDeps) {
    this.deps = deps;
  }

  /**
   * Records an offer's outcome behind routing; a declined, timed-out or lost offer requeues.
   * `offer` (its times, from the store step that ended it) makes the row land resolved in
   * whichever order this and the `offerMade` write (maybe another node's) reach the database.
   */
  offerEnded(consultationId: string, vetId: number, outcome: OfferOutcome, offer: HeldOffer | null): void {
    const at = this.deps.clock.now();
    this.deps.observer?.offer?.(outcome);
    const referrals = this.deps.referrals;
    if (referrals && isReferralEntryId(consultationId)) {
      referrals
        .offerEnded(consultationId, vetId, outcome, offer)
        .catch((err: unknown) =>
          this.deps.logger.error({ err, consultationId, vetId }, "referral offer outcome not handled"),
        );
      return;
    }
    const requeued = outcome !== "accepted" && outcome !== "cancelled" && outcome !== "expired";
    const times = offer?.vetId === vetId ? { offeredAt: offer.offeredAt, expiresAt: offer.expiresAt } : undefined;
    this.deps.ledgerWriter.writeBehind(consultationId, (l) =>
      l.offerEnded(consultationId, vetId, outcome, at, requeued, times),
    );
  }

  /** The owner's last socket left: a waiting request gets `USER_GRACE_MS` (or is cancelled at once). */
  async startGrace(appId: number, userId: number): Promise<void> {
    const { store, routing, clock } = this.deps;
    const open = await store.findOpenByUser(appId, userId);
    if (!open || open.status === "active") return;
    if (routing.userGraceMs === 0) await this.closeOnDeadline("grace", open.id, "cancelled", "user_gone");
    else await store.addDeadline("grace", open.id, clock.now() + routing.userGraceMs);
  }

  /**
   * Closes an open consultation for good and tells everyone concerned. Record first
   * (PROTOCOL §6): nobody is told before the database has the final status. With `seen`
   * active (the caller's fresh read), the status is written first and then finished in the
   * store; otherwise the store finishes it first (it may race an accept) and, when the write
   * fails, {@link RoutingStore.restore} puts it back. Either way a refused write throws
   * {@link StorageUnavailableError} with the live state as before.
   */
  async close(
    id: string,
    status: FinalStatus,
    opts: { endedBy?: EndedBy; reason?: string } = {},
    seen?: LiveConsultation | null,
  ): Promise<boolean> {
    const { store, routing } = this.deps;
    // A pending referral goes first: its entry's offer can no longer be accepted.
    if (!seen || seen.referral) {
      const ended = await store.endReferral(id);
      if (ended) revokeReferralOffer(this.deps, id, ended);
    }
    const now = this.deps.clock.now();
    const wrapupUntil = routing.wrapupMs > 0 ? now + routing.wrapupMs : null;
    if (seen?.status === "active") {
      // Only ends and hand-overs move an active consultation: no accept can race this.
      await this.record(seen, "ended", now, opts);
      const finished = await store.finish(id, now, wrapupUntil);
      if (!finished) return false;
      await this.tell(finished, "ended", now, opts);
      return true;
    }
    const finished = await store.finish(id, now, wrapupUntil);
    if (!finished) return false;
    const c = finished.consultation;
    const final = c.status === "active" ? "ended" : status === "ended" ? "cancelled" : status;
    try {
      await this.record(c, final, now, opts);
    } catch (err) {
      await this.undoFinish(finished, err);
      throw err;
    }
    await this.tell(finished, final, now, opts);
    return true;
  }

  /**
   * A deadline's close (queue expiry, the owner's grace). When the database refuses, the
   * consultation is back in live state and the deadline is scheduled again: tried later.
   */
  async closeOnDeadline(kind: "queue" | "grace", id: string, status: FinalStatus, reason: string): Promise<void> {
    try {
      await this.close(id, status, { reason });
    } catch (err) {
      if (!(err instanceof StorageUnavailableError)) throw err;
      await this.deps.store.addDeadline(kind, id, this.deps.clock.now() + DEADLINE_RETRY_MS);
    }
  }

  /** The final status, durably. Vet and SIDs ride along: an accept written elsewhere may land later. */
  private record(
    c: LiveConsultation,
    final: FinalStatus,
    now: number,
    opts: { endedBy?: EndedBy; reason?: string },
  ): Promise<void> {
    return this.deps.ledgerWriter.writeThrough(c.id, (l) =>
      l.transition(c.id, final, now, {
        ...(c.vetId !== null ? { vetId: c.vetId } : {}),
        ...(c.channelSid ? { channelSid: c.channelSid } : {}),
        ...(c.roomSid ? { roomSid: c.roomSid } : {}),
        ...(opts.endedBy ? { endedBy: opts.endedBy } : {}),
        ...(opts.reason ? { endReason: opts.reason } : {}),
      }),
    );
  }

  /**
   * A finish whose write failed: the consultation goes back as it was (an offered one comes
   * back queued: its vet is told the offer is gone, and that is recorded behind).
   */
  private async undoFinish(finished: FinishResult, err: unknown): Promise<void> {
    const { store, notifier, logger } = this.deps;
    const c = finished.consultation;
    const back: LiveConsultation = c.status === "offered" ? { ...c, status: "queued", offer: null } : c;
    const restored = await store.restore(back).catch((e: unknown) => {
      logger.error({ err: e, consultationId: c.id }, "restoring a consultation after a refused write failed");
      return false;
    });
    logger.warn({ err, consultationId: c.id, restored }, "close not recorded: consultation restored");
    const vetId = finished.revokedOfferVetId;
    if (vetId !== null) {
      const at = this.deps.clock.now();
      this.deps.observer?.offer?.("cancelled");
      const times =
        c.offer?.vetId === vetId ? { offeredAt: c.offer.offeredAt, expiresAt: c.offer.expiresAt } : undefined;
      this.deps.ledgerWriter.writeBehind(c.id, (l) => l.offerEnded(c.id, vetId, "cancelled", at, true, times));
      notifier.toVet(vetId, "consult:offer_revoked", { consultation_id: c.id, reason: "cancelled" });
      await this.deps.routingPass.run({ include: c.id });
    }
  }

  /** Everyone concerned hears of a recorded close. */
  private async tell(
    finished: FinishResult,
    final: FinalStatus,
    now: number,
    opts: { endedBy?: EndedBy; reason?: string },
  ): Promise<void> {
    const { notifier, positions } = this.deps;
    const c = finished.consultation;
    this.deps.observer?.finished?.(final);
    if (finished.revokedOfferVetId !== null) {
      const reason: OfferRevokedReason = final === "expired" ? "timeout" : "cancelled";
      this.offerEnded(c.id, finished.revokedOfferVetId, final === "expired" ? "expired" : "cancelled", c.offer);
      notifier.toVet(finished.revokedOfferVetId, "consult:offer_revoked", { consultation_id: c.id, reason });
    }
    if (final === "ended") {
      const ended = endedPayload(c.id, opts.endedBy ?? "system", opts.reason);
      notifier.toUser(c.appId, c.userId, "consult:ended", ended);
      if (c.vetId !== null) notifier.toVet(c.vetId, "consult:ended", ended);
      if (c.leavingVetId != null) notifier.toVet(c.leavingVetId, "consult:ended", ended);
      if (c.acceptedAt !== null) positions.observeHandle(now - c.acceptedAt);
      this.deps.calls.closeCall(c);
    } else if (final === "expired") {
      notifier.toUser(c.appId, c.userId, "consult:expired", { consultation_id: c.id });
    } else if (opts.endedBy !== "user") {
      notifier.toUser(c.appId, c.userId, "consult:ended", endedPayload(c.id, "system", opts.reason ?? "cancelled"));
    }
    // A freed vet or queue place matters only to requests still waiting for an offer.
    if (finished.waiting > 0) await this.deps.routingPass.run();
  }
}
