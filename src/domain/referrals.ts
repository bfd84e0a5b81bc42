/**
 * Referrals (PROTOCOL §10): a vet holding an active consultation hands it to another vet.
 * The referral is a queue entry (`referralEntryId`) in the transferred class that routing
 * offers like a request; the store's accept of it hands the consultation over atomically
 * (cold: the first vet lets go; warm: both hold it until the first sends `consult:leave`).
 * Until then the first vet keeps it; no taker within `TRANSFER_TIMEOUT_MS`, or the named vet
 * declining or missing the offer, and the first vet hears `consult:transfer_failed`.
 * Every step is recorded (consultation events, vets' spells) before anyone is told.
 */
import type { Clock } from "../lib/clock.js";
import { AppError, notFound } from "../lib/app-error.js";
import type { Logger } from "../lib/logger.js";
import type { TransferFailedReason, VetConsultationPayload } from "../protocol/events.js";
import type { CallSetup } from "./call-setup.js";
import type { RoutingConfig } from "./engine-config.js";
import type { LedgerWriter } from "./ledger-writer.js";
import type { PayloadBuilder } from "./outgoing-payloads.js";
import type { Directory, Ledger, Notifier, TokenMinter, TwilioProvider } from "./ports.js";
import type { RoutingPass } from "./routing-pass.js";
import type { AcceptResult, EndedReferral, RoutingStore } from "./routing-store.js";
import {
  referralEntryId,
  type HeldOffer,
  type LiveConsultation,
  type OfferOutcome,
  type Referral,
  type ReferralMode,
} from "./types.js";

/** `TRANSFER_TIMEOUT_MS` when the routing config has none. */
export const DEFAULT_TRANSFER_TIMEOUT_MS = 120_000;

/** Who may take a referral: a named vet, or any vet with these skills. */
export type ReferralTarget = { vet_email: string } | { species?: string | undefined; language?: string | undefined };

export interface ReferralInput {
  to: ReferralTarget;
  note: string;
  mode: ReferralMode;
}

export interface ReferralsDeps {
  store: RoutingStore;
  ledger: Pick<Ledger, "get">;
  ledgerWriter: LedgerWriter;
  notifier: Notifier;
  directory: Directory;
  payloads: PayloadBuilder;
  calls: CallSetup;
  twilio: TwilioProvider;
  tokens: TokenMinter;
  routingPass: RoutingPass;
  clock: Clock;
  logger: Logger;
  routing: RoutingConfig;
}

/** Offer outcomes by which a named vet fails a referral. */
const MISSED: ReadonlySet<OfferOutcome> = new Set(["timeout", "disconnected", "away", "node_dead"]);

/**
 * The referral's offer ended without an accept because the referral did (cancelled, failed,
 * its consultation ended or handed over): its row is resolved `cancelled` and its vet told.
 */
export function revokeReferralOffer(
  deps: Pick<ReferralsDeps, "ledgerWriter" | "notifier" | "clock">,
  consultationId: string,
  ended: EndedReferral,
): void {
  const offer = ended.revokedOffer;
  if (!offer) return;
  const at = deps.clock.now();
  const times = { offeredAt: offer.offeredAt, expiresAt: offer.expiresAt };
  deps.ledgerWriter.writeBehind(consultationId, (l) =>
    l.offerEnded(consultationId, offer.vetId, "cancelled", at, false, times),
  );
  deps.notifier.toVet(offer.vetId, "consult:offer_revoked", { consultation_id: consultationId, reason: "cancelled" });
}

export class Referrals {
  private readonly deps: ReferralsDeps;

  constructor(deps: ReferralsDeps) {
    this.deps = deps;
  }

  /** `consult:transfer`: recorded, then the entry waits for a vet (see the module). */
  async request(
    vetId: number,
    consultationId: string,
    input: ReferralInput,
  ): Promise<{ consultation_id: string; referral: "pending" }> {
    const { store, directory, ledgerWriter, clock, routing } = this.deps;
    const c = await this.heldBy(vetId, consultationId);
    if (c.referral || c.leavingVetId != null)
      throw new AppError(409, "A referral of this consultation is already under way.");
    let toVetId: number | null = null;
    const to = { species: null as string | null, language: null as string | null };
    if ("vet_email" in input.to) {
      toVetId = await directory.vetIdByEmail(input.to.vet_email);
      if (toVetId === null) throw new AppError(422, "The selected to.vet_email is invalid.");
      if (toVetId === vetId) throw new AppError(422, "You cannot refer a consultation to yourself.");
    } else {
      to.species = input.to.species ?? null;
      to.language = input.to.language ?? null;
    }
    const me = await directory.vet(vetId);
    const now = clock.now();
    const referral: Referral = {
      fromVetId: vetId,
      fromVetName: me ? `${me.firstName} ${me.lastName}`.trim() : "",
      note: input.note,
      mode: input.mode,
      toVetId,
      ...(to.species ? { species: to.species } : {}),
      ...(to.language ? { language: to.language } : {}),
      requestedAt: now,
      deadline: now + (routing.transferTimeoutMs ?? DEFAULT_TRANSFER_TIMEOUT_MS),
    };
    const detail = {
      referral: "requested",
      from_vet_id: vetId,
      to_vet_id: toVetId,
      ...to,
      mode: input.mode,
      note: input.note,
    };
    await ledgerWriter.writeThrough(c.id, (l) => l.note(c.id, now, detail));
    const r = await store.requestReferral(c.id, referral);
    if (!r.ok) {
      // Lost a race (ended, handed over, another referral): the record says so.
      ledgerWriter.writeBehind(c.id, (l) => l.note(c.id, clock.now(), { referral: "refused", reason: r.reason }));
      throw r.reason === "pending"
        ? new AppError(409, "A referral of this consultation is already under way.")
        : new AppError(409, "The consultation is not active.");
    }
    await this.deps.routingPass.run({ include: r.entry.id });
    return { consultation_id: c.id, referral: "pending" };
  }

  /** `consult:transfer_cancel`: the first vet withdraws its pending referral. */
  async cancel(vetId: number, consultationId: string): Promise<void> {
    const { store, ledgerWriter, clock } = this.deps;
    const c = await this.heldBy(vetId, consultationId);
    if (c.referral?.fromVetId !== vetId) throw new AppError(409, "No referral of this consultation is pending.");
    const now = clock.now();
    await ledgerWriter.writeThrough(c.id, (l) => l.note(c.id, now, { referral: "cancelled", vet_id: vetId }));
    const ended = await store.endReferral(c.id);
    if (!ended) throw new AppError(409, "No referral of this consultation is pending.");
    revokeReferralOffer(this.deps, c.id, ended);
    if (ended.revokedOffer) await this.deps.routingPass.run();
  }

  /**
   * The referral failed: withdrawn, recorded, and its first vet (who keeps the consultation)
   * told. Nothing happens when it is no longer pending (accepted or ended first).
   */
  async fail(consultationId: string, reason: TransferFailedReason): Promise<void> {
    const { store, ledgerWriter, notifier, clock } = this.deps;
    const ended = await store.endReferral(consultationId);
    if (!ended) return;
    const at = clock.now();
    ledgerWriter.writeBehind(consultationId, (l) => l.note(consultationId, at, { referral: "failed", reason }));
    revokeReferralOffer(this.deps, consultationId, ended);
    // Told once recorded (the write is retried until it is).
    await ledgerWriter.settle(consultationId);
    notifier.toVet(ended.referral.fromVetId, "consult:transfer_failed", { consultation_id: consultationId, reason });
    if (ended.revokedOffer) await this.deps.routingPass.run();
  }

  /** The entry's `queue` deadline: `TRANSFER_TIMEOUT_MS` passed with no taker. */
  async expired(entryId: string): Promise<void> {
    const entry = await this.deps.store.getConsultation(entryId);
    if (entry?.referralOf) await this.fail(entry.referralOf, "timeout");
  }

  /** A routing pass offered the entry to `vetId`: the offer's row, against the consultation. */
  offerMade(entry: LiveConsultation, vetId: number, offeredAt: number, expiresAt: number): void {
    const id = entry.referralOf!;
    this.deps.ledgerWriter.writeBehind(id, (l) => l.referralOffered(id, vetId, offeredAt, expiresAt));
  }

  /**
   * The entry's offer ended without an accept: its row resolved. The vet the referral names
   * declining or missing it fails the referral; any other vet's, the next vet is offered.
   */
  async offerEnded(entryId: string, vetId: number, outcome: OfferOutcome, offer: HeldOffer | null): Promise<void> {
    const id = entryId.slice(0, -"~referral".length);
    const at = this.deps.clock.now();
    const times = offer?.vetId === vetId ? { offeredAt: offer.offeredAt, expiresAt: offer.expiresAt } : undefined;
    this.deps.ledgerWriter.writeBehind(id, (l) => l.offerEnded(id, vetId, outcome, at, false, times));
    const c = await this.deps.store.getConsultation(id);
    if (c?.referral?.toVetId !== vetId) return;
    if (outcome === "declined") await this.fail(id, "declined");
    else if (MISSED.has(outcome)) await this.fail(id, "missed");
  }

  /**
   * The store handed the consultation to `vetId` (`acceptOffer` of the entry): recorded (the
   * new vet's spell, cold the first's closed, `consult:transferred`'s webhook), the new vet
   * joins the Conversation (live), the first vet leaves it when cold, then the owner and the
   * first vet are told.
   */
  async accepted(vetId: number, r: Extract<AcceptResult, { ok: true }>): Promise<VetConsultationPayload> {
    const { ledgerWriter, notifier, payloads, twilio, clock, logger } = this.deps;
    const c = r.consultation;
    const { fromVetId, referral } = r.referral!;
    const cold = referral.mode === "cold";
    const now = clock.now();
    const offer = r.offer ?? { offeredAt: now, expiresAt: now };
    const detail = { referral: "accepted", vet_id: vetId, from_vet_id: fromVetId, mode: referral.mode };
    const write = (l: Ledger) => l.referralAccepted(c.id, vetId, fromVetId, cold, now, offer, detail);
    try {
      await ledgerWriter.writeThrough(c.id, write);
    } catch (err) {
      // Record first: refused, the hand-over is undone (the offer is this vet's again) and the vet gets 503.
      const back = r.offer
        ? await this.deps.store.revertReferral(c.id, vetId, referral, r.offer, clock.now()).catch(() => null)
        : null;
      logger.warn({ err, consultationId: c.id, vetId, back }, "referral accept not recorded: undone");
      if (back === "queued") await this.deps.routingPass.run({ include: referralEntryId(c.id) });
      throw err;
    }
    await this.deps.calls.joinConversation(c);
    if (cold && c.channelSid && twilio.mode === "live") this.removeFromConversation(c, fromVetId);
    const card = await payloads.vetCard(vetId);
    notifier.toUser(c.appId, c.userId, "consult:transferred", { consultation_id: c.id, vet: card });
    notifier.toVet(fromVetId, "consult:transferred", { consultation_id: c.id, vet: card, mode: referral.mode });
    const { vet } = await payloads.matched(c);
    // A video whose call is under way: the new vet's token has the room's grant, so it joins
    // the room the owner and the first vet are in (`call:start` answers the same room too).
    return c.roomSid ? { ...vet, twilioToken: this.deps.tokens.forVet(vetId, c.roomSid).token } : vet;
  }

  /** `consult:leave`: a warm referral's first vet lets go (recorded first), free for new offers. */
  async leave(vetId: number, consultationId: string): Promise<void> {
    const { store, ledgerWriter, clock } = this.deps;
    const c = await this.heldBy(vetId, consultationId);
    if (c.leavingVetId !== vetId) throw new AppError(409, "You hold this consultation: end it instead.");
    const now = clock.now();
    await ledgerWriter.writeThrough(c.id, (l) => l.vetLeft(c.id, vetId, now, { referral: "left", vet_id: vetId }));
    const r = await store.leaveConsultation(c.id, vetId, now);
    if (!r) throw new AppError(409, "You hold this consultation: end it instead.");
    if (c.channelSid && this.deps.twilio.mode === "live") this.removeFromConversation(c, vetId);
    await this.deps.routingPass.run();
  }

  /** The vet leaves the consultation's Conversation, in the background (a failure is logged). */
  private removeFromConversation(c: LiveConsultation, vetId: number): void {
    const { twilio, tokens, logger } = this.deps;
    twilio
      .removeParticipant(c.channelSid!, tokens.forVet(vetId).identity)
      .catch((err: unknown) =>
        logger.warn({ err, consultationId: c.id, vetId }, "removing the first vet from the conversation failed"),
      );
  }

  /**
   * The live consultation `vetId` holds (alone or in a warm overlap): 404 when it does not
   * hold it, 409 when it is no longer active (or not yet).
   */
  private async heldBy(vetId: number, consultationId: string): Promise<LiveConsultation> {
    const c = await this.deps.store.getConsultation(consultationId);
    if (c && !c.referralOf && (c.vetId === vetId || c.leavingVetId === vetId)) {
      if (c.status !== "active") throw new AppError(409, "The consultation is not active.");
      return c;
    }
    if (!c) {
      const rec = await this.deps.ledger.get(consultationId);
      if (rec?.vetId === vetId) throw new AppError(409, "The consultation is not active.");
    }
    throw notFound("Consultation not found");
  }
}
