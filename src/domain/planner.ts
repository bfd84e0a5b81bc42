/**
 * The routing policy of PROTOCOL §4 as pure functions over a store snapshot. The store
 * applies each decision atomically and refuses stale ones, so a plan made from a snapshot
 * another node has since changed is safe: it just loses and is re-planned.
 */
import type { RoutingSnapshot } from "./routing-store.js";
import {
  canTake,
  inLanguageWindow,
  isEligible,
  languagesOf,
  queueComparator,
  type RoutedRequest,
  type RoutingRules,
} from "./routing-rules.js";
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

/**
 * The vet for one request among `free` vets (already sorted by idleness), or null: the
 * requested vet when they can take it (their language not binding: the owner chose them),
 * else the longest-idle vet who can take it and speaks the request's language, else —
 * once the language window has passed — the longest-idle vet who can take it.
 */
export function chooseVet(
  c: RoutedRequest & Pick<LiveConsultation, "requestedVetId">,
  free: readonly VetPresence[],
  now: number,
  rules: RoutingRules,
): { vetId: number; requested: boolean } | null {
  if (c.requestedVetId !== null) {
    const asked = free.find((v) => v.vetId === c.requestedVetId);
    if (asked && canTake(asked, c, now, rules, { ignoreLanguage: true }))
      return { vetId: asked.vetId, requested: true };
  }
  let fallback: VetPresence | null = null;
  for (const v of free) {
    if (!canTake(v, c, now, rules, { ignoreLanguage: true })) continue;
    if (!c.language || languagesOf(v).includes(c.language))
      return { vetId: v.vetId, requested: v.vetId === c.requestedVetId };
    fallback ??= v;
  }
  if (!fallback || inLanguageWindow(c, now, rules.languageWaitMs)) return null;
  return { vetId: fallback.vetId, requested: fallback.vetId === c.requestedVetId };
}

/** Eligible vets, longest idle first. */
export function eligibleVets(vets: readonly VetPresence[], maxConsults: number): VetPresence[] {
  return vets.filter((v) => isEligible(v, maxConsults)).sort(byIdle);
}

/**
 * Offers to make now: requests in serving order (class after aging, then arrival), each to
 * the vet {@link chooseVet} picks; one offer per request and per vet. A request no free vet
 * can take (species, channel, language window) does not hold up the ones behind it.
 */
export function planOffers(snapshot: RoutingSnapshot, rules: RoutingRules, now: number): PlannedOffer[] {
  let free = eligibleVets(snapshot.vets, rules.maxConsults);
  const plan: PlannedOffer[] = [];
  if (free.length === 0) return plan;
  const queue = [...snapshot.queue].sort(queueComparator(now, rules.priorityAgingMs));
  for (const c of queue) {
    if (free.length === 0) break;
    if (c.status !== "queued" || c.offer) continue;
    const pick = chooseVet(c, free, now, rules);
    if (!pick) continue;
    plan.push({ consultationId: c.id, ...pick });
    free = free.filter((v) => v.vetId !== pick.vetId);
  }
  return plan;
}
