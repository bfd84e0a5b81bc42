/**
 * A vet's accept (PROTOCOL §4, §6): the offer becomes an active consultation with that vet,
 * recorded before the owner hears of it, with its Conversation made (live mode) or joined
 * (a handed-over one).
 */
import type { Clock } from "../lib/clock.js";
import { AppError } from "../lib/app-error.js";
import type { Logger } from "../lib/logger.js";
import type { VetConsultationPayload } from "../protocol/events.js";
import type { CallSetup } from "./call-setup.js";
import type { EngineObserver } from "./engine-config.js";
import type { LedgerWriter } from "./ledger-writer.js";
import type { PayloadBuilder } from "./outgoing-payloads.js";
import type { Notifier } from "./ports.js";
import type { RoutingPass } from "./routing-pass.js";
import type { RoutingStore } from "./routing-store.js";
import { referralEntryId, type HeldOffer, type LiveConsultation } from "./types.js";
import type { Referrals } from "./referrals.js";

export interface AcceptanceDeps {
  store: RoutingStore;
  ledgerWriter: LedgerWriter;
  calls: CallSetup;
  payloads: PayloadBuilder;
  notifier: Notifier;
  routingPass: RoutingPass;
  clock: Clock;
  logger: Logger;
  observer?: EngineObserver | undefined;
  /** A referral's accept (PROTOCOL §10) hands the consultation over instead of activating it. */
  referrals?: Referrals | undefined;
}

export class Acceptance {
  private readonly deps: AcceptanceDeps;

  constructor(deps: AcceptanceDeps) {
    this.deps = deps;
  }

  /**
   * `consult:accept`: the consultation becomes active with this vet; the owner is told.
   * Record first (PROTOCOL §6): the store step, then one durable write of `active` (vet,
   * resolved offer, channel SID), then the owner and the ack. When the database refuses,
   * the store step is undone (the offer is the vet's again) and the vet gets 503.
   */
  async accept(vetId: number, consultationId: string): Promise<VetConsultationPayload> {
    const { store, calls, ledgerWriter, observer } = this.deps;
    const now = this.deps.clock.now();
    // Offline SIDs have no outside effect: made up front, stored by the accept step itself.
    const sid = calls.localConversationSid();
    let r = await store.acceptOffer(consultationId, vetId, now, sid);
    // Clients know a referral's offer (PROTOCOL §10) by its consultation's id: tried second, off the common path.
    if (!r.ok && r.reason === "no_offer") {
      const referral = await store.acceptOffer(referralEntryId(consultationId), vetId, now, sid);
      if (referral.ok || referral.reason === "expired") r = referral;
    }
    if (!r.ok) {
      throw new AppError(409, r.reason === "expired" ? "The offer has expired." : "The offer is no longer available.");
    }
    if (r.referral && this.deps.referrals) return this.deps.referrals.accepted(vetId, r);
    let c = r.consultation;
    if (r.alreadyActive) {
      c = await calls.ensureConversation(c, false);
      // The first accept's write may have failed with its undo (the store away too): `active`,
      // vet and SID are written again (idempotent: an older or terminal status is kept).
      // Queued behind an accept of this node still being recorded, it answers after it, or 503.
      const { id, channelSid, acceptedAt } = c;
      await ledgerWriter.writeThrough(id, (l) =>
        l.transition(id, "active", acceptedAt ?? now, { vetId, ...(channelSid ? { channelSid } : {}) }),
      );
      const still = await store.getConsultation(c.id);
      if (still?.status !== "active" || still.vetId !== vetId)
        throw new AppError(409, "The offer is no longer available.");
      // A handed-over or referred consultation: retries the join of a failed first accept
      // (adding a participant already there counts as added).
      await calls.joinConversation(c);
    } else {
      await this.recordAccept(c, vetId, now, r.offer);
      observer?.offer?.("accepted");
      observer?.matched?.(now - c.createdAt);
      // A handed-over consultation keeps its Conversation (no second one): the new vet joins it.
      c = await this.recordConversation(c);
      if (c.transferred) await calls.joinConversation(c);
    }
    const { user, vet } = await this.deps.payloads.matched(c);
    this.deps.notifier.toUser(c.appId, c.userId, "consult:matched", user);
    return vet;
  }

  /**
   * The durable half of an accept: one write of `active`, with the channel SID when it is
   * known (offline). Refused → the store step is undone and the error goes to the vet.
   */
  private async recordAccept(
    c: LiveConsultation,
    vetId: number,
    now: number,
    offer: HeldOffer | undefined,
  ): Promise<void> {
    const id = c.id;
    const channelSid = c.channelSid;
    try {
      await this.deps.ledgerWriter.writeThrough(id, (l) =>
        l.transition(id, "active", now, {
          vetId,
          resolvedOffer: {
            vetId,
            outcome: "accepted",
            ...(offer ? { offeredAt: offer.offeredAt, expiresAt: offer.expiresAt } : {}),
          },
          ...(channelSid ? { channelSid } : {}),
        }),
      );
    } catch (err) {
      const back = offer ? await this.deps.store.revertAccept(id, vetId, offer).catch(() => null) : null;
      this.deps.logger.warn({ err, consultationId: id, vetId, back }, "accept not recorded: undone");
      if (back === "queued") await this.deps.routingPass.run({ include: id });
      throw err;
    }
  }

  /**
   * Live mode: the Conversation is created after `active` is recorded, so a refused write
   * never leaves one behind; its SID is recorded before the owner hears of it. Twilio
   * failures surface as 502 with the consultation active (in the store and the database);
   * a repeated accept (idempotent) retries the Conversation.
   */
  private async recordConversation(c: LiveConsultation): Promise<LiveConsultation> {
    if (c.channelSid) return c;
    const id = c.id;
    const withSid = await this.deps.calls.ensureConversation(c, false);
    const sid = withSid.channelSid;
    if (sid) await this.deps.ledgerWriter.writeThrough(id, (l) => l.setSids(id, { channelSid: sid }));
    return withSid;
  }
}
