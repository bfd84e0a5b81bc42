/**
 * How consultations and offers end: closing a consultation for good (ended, cancelled,
 * expired), recording an offer's outcome, and the owner's grace after their last socket.
 * Shared by the commands of the engine and by the timekeeper's deadlines.
 */
import type { Clock } from "../lib/clock.js";
import type { OfferRevokedReason } from "../protocol/events.js";
import type { CallSetup } from "./call-setup.js";
import type { EngineObserver, RoutingConfig } from "./engine-config.js";
import type { HistoryWriter } from "./history-writer.js";
import { endedPayload } from "./payloads.js";
import type { Notifier } from "./ports.js";
import type { QueuePositions } from "./queue-positions.js";
import type { RoutingPass } from "./routing-pass.js";
import type { RoutingStore } from "./routing-store.js";
import type { EndedBy, OfferOutcome } from "./types.js";

export type FinalStatus = "ended" | "cancelled" | "expired";

export interface LifecycleDeps {
  store: RoutingStore;
  history: HistoryWriter;
  notifier: Notifier;
  positions: QueuePositions;
  calls: CallSetup;
  routingPass: RoutingPass;
  clock: Clock;
  routing: RoutingConfig;
  observer?: EngineObserver | undefined;
}

export class Lifecycle {
  private readonly deps: LifecycleDeps;

  constructor(deps: LifecycleDeps) {
    this.deps = deps;
  }

  /** Records an offer's outcome behind routing; a declined, timed-out or lost offer requeues. */
  offerEnded(consultationId: string, vetId: number, outcome: OfferOutcome): void {
    const at = this.deps.clock.now();
    this.deps.observer?.offer?.(outcome);
    const requeued = outcome !== "accepted" && outcome !== "cancelled" && outcome !== "expired";
    this.deps.history.writeBehind(consultationId, (l) => l.offerEnded(consultationId, vetId, outcome, at, requeued));
  }

  /** The owner's last socket left: a waiting request gets `USER_GRACE_MS` (or is cancelled at once). */
  async startGrace(appId: number, userId: number): Promise<void> {
    const { store, routing, clock } = this.deps;
    const open = await store.findOpenByUser(appId, userId);
    if (!open || open.status === "active") return;
    if (routing.userGraceMs === 0) await this.close(open.id, "cancelled", { reason: "user_gone" });
    else await store.addDeadline("grace", open.id, clock.now() + routing.userGraceMs);
  }

  /**
   * Closes an open consultation for good and tells everyone concerned. The final status is
   * written before anyone is told, so a follow-up (feedback, REST lookups) on any node sees it.
   */
  async close(id: string, status: FinalStatus, opts: { endedBy?: EndedBy; reason?: string } = {}): Promise<boolean> {
    const { store, history, notifier, routing, positions } = this.deps;
    const now = this.deps.clock.now();
    // The store applies wrap-up only when the consultation was active.
    const finished = await store.finish(id, now, routing.wrapupMs > 0 ? now + routing.wrapupMs : null);
    if (!finished) return false;
    const c = finished.consultation;
    const final = c.status === "active" ? "ended" : status === "ended" ? "cancelled" : status;
    // Vet and SIDs ride along: an accept written behind on another node may land later.
    await history.writeThrough(c.id, (l) =>
      l.transition(c.id, final, now, {
        ...(c.vetId !== null ? { vetId: c.vetId } : {}),
        ...(c.channelSid ? { channelSid: c.channelSid } : {}),
        ...(c.roomSid ? { roomSid: c.roomSid } : {}),
        ...(opts.endedBy ? { endedBy: opts.endedBy } : {}),
        ...(opts.reason ? { endReason: opts.reason } : {}),
      }),
    );
    this.deps.observer?.finished?.(final);

    if (finished.revokedOfferVetId !== null) {
      const reason: OfferRevokedReason = final === "expired" ? "timeout" : "cancelled";
      this.offerEnded(c.id, finished.revokedOfferVetId, final === "expired" ? "expired" : "cancelled");
      notifier.toVet(finished.revokedOfferVetId, "consult:offer_revoked", { consultation_id: c.id, reason });
    }
    if (final === "ended") {
      const ended = endedPayload(c.id, opts.endedBy ?? "system", opts.reason);
      notifier.toUser(c.appId, c.userId, "consult:ended", ended);
      if (c.vetId !== null) notifier.toVet(c.vetId, "consult:ended", ended);
      if (c.acceptedAt !== null) positions.observeHandle(now - c.acceptedAt);
      this.deps.calls.closeCall(c);
    } else if (final === "expired") {
      notifier.toUser(c.appId, c.userId, "consult:expired", { consultation_id: c.id });
    } else if (opts.endedBy !== "user") {
      notifier.toUser(c.appId, c.userId, "consult:ended", endedPayload(c.id, "system", opts.reason ?? "cancelled"));
    }
    if (c.status !== "active") positions.queueChanged();
    // A freed vet or queue place matters only to requests still waiting for an offer.
    if (finished.waiting > 0) await this.deps.routingPass.run();
    return true;
  }
}
