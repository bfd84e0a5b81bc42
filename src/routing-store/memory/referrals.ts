/**
 * Referrals (PROTOCOL §10) in the memory store: the steps of `RoutingStore.requestReferral`,
 * `endReferral`, `leaveConsultation` and the referral branch of `acceptOffer`, over the
 * store's own maps (each runs without awaiting: atomic on one event loop).
 */
import type { AcceptResult, EndedReferral, LeaveResult, ReferralRequestResult } from "../../domain/routing-store.js";
import {
  referralEntryId,
  type HeldOffer,
  type LiveConsultation,
  type Referral,
  type VetPresence,
} from "../../domain/types.js";
import type { MemoryDeadlines } from "./deadlines.js";
import { dropActive, holdActive } from "./vet-holdings.js";

/** The memory store's state these steps change. */
export interface ReferralState {
  consultations: Map<string, LiveConsultation>;
  vets: Map<number, VetPresence>;
  /** Queued with no offer. */
  waiting: Set<string>;
  deadlines: MemoryDeadlines;
  nextSeq(): number;
}

const clone = <T>(v: T): T => structuredClone(v);

/** See `RoutingStore.requestReferral`. */
export function requestReferral(s: ReferralState, consultationId: string, referral: Referral): ReferralRequestResult {
  const c = s.consultations.get(consultationId);
  if (!c || c.referralOf) return { ok: false, reason: "not_found" };
  if (c.status !== "active")
    return c.status === "queued" || c.status === "offered"
      ? { ok: false, reason: "not_active" }
      : { ok: false, reason: "not_found" };
  if (c.vetId !== referral.fromVetId && c.leavingVetId !== referral.fromVetId)
    return { ok: false, reason: "not_holder" };
  if (c.vetId !== referral.fromVetId || c.referral || c.leavingVetId != null) return { ok: false, reason: "pending" };
  c.referral = clone(referral);
  const entry = putEntry(s, c, referral);
  s.waiting.add(entry.id);
  return { ok: true, consultation: clone(c), entry: clone(entry) };
}

/** Creates the referral entry of `c` (see `RoutingStore.requestReferral`); the caller makes it wait or offers it. */
function putEntry(s: ReferralState, c: LiveConsultation, referral: Referral): LiveConsultation {
  const entry: LiveConsultation = {
    ...clone(c),
    id: referralEntryId(c.id),
    status: "queued",
    seq: s.nextSeq(),
    createdAt: referral.requestedAt,
    queueDeadline: referral.deadline,
    requestedVetId: referral.toVetId,
    offer: null,
    excludedVetIds: [referral.fromVetId],
    vetId: null,
    acceptedAt: null,
    transferred: true,
    species: referral.species ?? c.species ?? null,
    language: referral.language ?? null,
    adviceFallback: false,
    careDeadline: null,
    referral: clone(referral),
    referralOf: c.id,
    leavingVetId: null,
  };
  s.consultations.set(entry.id, entry);
  s.deadlines.set("queue", entry.id, entry.queueDeadline);
  return entry;
}

/** See `RoutingStore.revertReferral`. */
export function revertReferral(
  s: ReferralState,
  id: string,
  vetId: number,
  referral: Referral,
  offer: HeldOffer,
  now: number,
): "offered" | "queued" | null {
  const c = s.consultations.get(id);
  if (!c || c.status !== "active" || c.vetId !== vetId || c.referral) return null;
  const warm = referral.mode !== "cold";
  if (warm ? c.leavingVetId !== referral.fromVetId : c.leavingVetId != null) return null;
  const vet = s.vets.get(vetId);
  if (vet) release(vet, c, now);
  const from = s.vets.get(referral.fromVetId);
  if (from && !from.activeConsultationIds.includes(id)) holdActive(from, c);
  c.vetId = referral.fromVetId;
  c.leavingVetId = null;
  c.referral = clone(referral);
  const entry = putEntry(s, c, referral);
  if (vet && vet.offerConsultationId === null) {
    entry.status = "offered";
    entry.offer = clone(offer);
    vet.offerConsultationId = entry.id;
    s.deadlines.set("offer", entry.id, offer.expiresAt);
    return "offered";
  }
  s.waiting.add(entry.id);
  return "queued";
}

/** See `RoutingStore.endReferral`. */
export function endReferral(s: ReferralState, consultationId: string): EndedReferral | null {
  const c = s.consultations.get(consultationId);
  if (!c?.referral) return null;
  const referral = c.referral;
  c.referral = null;
  const entry = s.consultations.get(referralEntryId(consultationId));
  let revokedOffer = null;
  if (entry) {
    if (entry.offer) {
      revokedOffer = clone(entry.offer);
      const holder = s.vets.get(entry.offer.vetId);
      if (holder?.offerConsultationId === entry.id) holder.offerConsultationId = null;
    }
    dropEntry(s, entry.id);
  }
  return { consultation: clone(c), referral, revokedOffer };
}

function dropEntry(s: ReferralState, entryId: string): void {
  for (const kind of ["offer", "queue"] as const) s.deadlines.delete(kind, entryId);
  s.consultations.delete(entryId);
  s.waiting.delete(entryId);
}

/**
 * The referral branch of `acceptOffer`: `entry` is offered to `vet` (checked by the caller,
 * not expired). The consultation must still be active with the referral's first vet.
 */
export function acceptReferral(s: ReferralState, entry: LiveConsultation, vet: VetPresence, now: number): AcceptResult {
  const c = entry.referralOf ? s.consultations.get(entry.referralOf) : undefined;
  const referral = c?.referral;
  if (!c || !referral || c.status !== "active" || c.vetId !== referral.fromVetId || c.vetId === vet.vetId) {
    return { ok: false, reason: "no_offer" };
  }
  const offer = clone(entry.offer!);
  vet.offerConsultationId = null;
  dropEntry(s, entry.id);
  const from = s.vets.get(referral.fromVetId);
  if (referral.mode === "cold") {
    if (from) release(from, c, now);
    c.leavingVetId = null;
  } else c.leavingVetId = referral.fromVetId;
  c.vetId = vet.vetId;
  c.referral = null;
  holdActive(vet, c);
  return {
    ok: true,
    consultation: clone(c),
    alreadyActive: false,
    offer,
    referral: { fromVetId: referral.fromVetId, referral },
  };
}

/** See `RoutingStore.leaveConsultation`. */
export function leaveConsultation(
  s: ReferralState,
  consultationId: string,
  vetId: number,
  now: number,
): LeaveResult | null {
  const c = s.consultations.get(consultationId);
  if (!c || c.status !== "active" || c.leavingVetId !== vetId) return null;
  c.leavingVetId = null;
  const vet = s.vets.get(vetId);
  if (vet) release(vet, c, now);
  return { consultation: clone(c), presence: vet ? clone(vet) : null };
}

/** The vet no longer holds `c`; free from `now` when it holds nothing else. */
export function release(vet: VetPresence, c: LiveConsultation, now: number): void {
  dropActive(vet, c);
  if (vet.activeConsultationIds.length === 0 && vet.wrapupUntil === null) vet.idleSince = now;
}
