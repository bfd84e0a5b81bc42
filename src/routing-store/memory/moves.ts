/**
 * Memory-store steps that move an active consultation back to waiting: `revertAccept` and
 * `transfer` of `RoutingStore` (the store checks what needs its connections first).
 */
import { queueOrder, type TransferResult } from "../../domain/routing-store.js";
import type { HeldOffer, LiveConsultation } from "../../domain/types.js";
import { release, type ReferralState } from "./referrals.js";
import { dropActive } from "./vet-holdings.js";

const clone = <T>(v: T): T => structuredClone(v);

/** See `RoutingStore.revertAccept`. */
export function revertAccept(
  s: ReferralState,
  consultationId: string,
  vetId: number,
  offer: HeldOffer,
): "offered" | "queued" | null {
  const c = s.consultations.get(consultationId);
  if (!c || c.status !== "active" || c.vetId !== vetId) return null;
  const vet = s.vets.get(vetId);
  c.vetId = null;
  c.acceptedAt = null;
  s.deadlines.set("queue", c.id, c.queueDeadline);
  if (vet) dropActive(vet, c);
  if (vet && vet.offerConsultationId === null) {
    c.status = "offered";
    c.offer = clone(offer);
    vet.offerConsultationId = c.id;
    s.deadlines.set("offer", c.id, offer.expiresAt);
  } else {
    c.status = "queued";
    c.offer = null;
    s.waiting.add(c.id);
  }
  return c.status;
}

/** See `RoutingStore.transfer` (without `ifVetOffline`, which the store checks). A warm referral's leaving vet lets go too. */
export function transfer(
  s: ReferralState,
  consultationId: string,
  now: number,
  queueDeadline: number,
): TransferResult | null {
  const c = s.consultations.get(consultationId);
  if (!c || c.status !== "active" || c.vetId === null || c.referralOf) return null;
  const fromVetId = c.vetId;
  for (const id of [fromVetId, c.leavingVetId]) {
    const vet = id != null ? s.vets.get(id) : undefined;
    if (vet) release(vet, c, now);
  }
  c.status = "queued";
  c.offer = null;
  c.vetId = null;
  c.leavingVetId = null;
  c.acceptedAt = null;
  c.transferred = true;
  c.queueDeadline = queueDeadline;
  if (!c.excludedVetIds.includes(fromVetId)) c.excludedVetIds.push(fromVetId);
  s.waiting.add(c.id);
  s.deadlines.set("queue", c.id, queueDeadline);
  return { consultation: clone(c), fromVetId, position: placeAmong(s.consultations.values(), c, queueOrder) };
}

/** 1-based place of `c` among the queued and offered of `all` in `order`. */
export function placeAmong(
  all: Iterable<LiveConsultation>,
  c: LiveConsultation,
  order: (a: LiveConsultation, b: LiveConsultation) => number,
): number {
  let place = 1;
  for (const other of all) if (other.status !== "active" && other !== c && order(other, c) < 0) place++;
  return place;
}
