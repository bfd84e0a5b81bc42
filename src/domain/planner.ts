/**
 * The routing policy of PROTOCOL §4 as pure functions over a store snapshot. The store
 * applies each decision atomically and refuses stale ones, so a plan made from a snapshot
 * another node has since changed is safe: it just loses and is re-planned.
 */
import { isEligible, queueOrder, type RoutingSnapshot } from "./routing-store.js";
import type { LiveConsultation, VetPresence } from "./types.js";

export interface PlannedOffer {
  consultationId: string;
  vetId: number;
  /** The vet is the one the owner asked for. */
  requested: boolean;
}

/** Longest idle first; vet id breaks ties so every node plans the same way. */
function byIdle(a: VetPresence, b: VetPresence): number {
  return a.idleSince - b.idleSince || a.vetId - b.vetId;
}

/** The vet for one request among `free` vets (already sorted by idleness), or null. */
export function chooseVet(
  c: Pick<LiveConsultation, "requestedVetId" | "excludedVetIds">,
  free: readonly VetPresence[],
): { vetId: number; requested: boolean } | null {
  if (c.requestedVetId !== null && !c.excludedVetIds.includes(c.requestedVetId)) {
    if (free.some((v) => v.vetId === c.requestedVetId)) return { vetId: c.requestedVetId, requested: true };
  }
  const vet = free.find((v) => !c.excludedVetIds.includes(v.vetId));
  return vet ? { vetId: vet.vetId, requested: vet.vetId === c.requestedVetId } : null;
}

/** Eligible vets, longest idle first. */
export function eligibleVets(vets: readonly VetPresence[], maxConsults: number): VetPresence[] {
  return vets.filter((v) => isEligible(v, maxConsults)).sort(byIdle);
}

/**
 * Offers to make now: requests in queue order (transferred ones first, then first come), each to its requested vet when
 * eligible, else the longest-idle eligible vet that has not declined or missed it; one
 * offer per request and per vet.
 */
export function planOffers(snapshot: RoutingSnapshot, maxConsults: number): PlannedOffer[] {
  let free = eligibleVets(snapshot.vets, maxConsults);
  const plan: PlannedOffer[] = [];
  // Stores return the queue in this order already; sorting only when needed keeps the hot path cheap.
  const queue = snapshot.queue.some((c) => c.transferred) ? [...snapshot.queue].sort(queueOrder) : snapshot.queue;
  for (const c of queue) {
    if (free.length === 0) break;
    if (c.status !== "queued" || c.offer) continue;
    const pick = chooseVet(c, free);
    if (!pick) continue;
    plan.push({ consultationId: c.id, ...pick });
    free = free.filter((v) => v.vetId !== pick.vetId);
  }
  return plan;
}
