import { QUEUE_HEAD_LIMIT, urgentClassOf } from "../../domain/routing-rules.js";
import type { RoutingSnapshot } from "../../domain/routing-store.js";
import type { LiveConsultation, VetPresence } from "../../domain/types.js";

/**
 * The head of the queue for the free `vets`, as `RoutingStore.headSnapshot` defines it,
 * from the consultations waiting for an offer: the memory store's copy of Lua's `headOf`
 * (`redis/commands/includes/queueHead.lua`). Returns them by `seq`, and whether a range had more.
 */
export function queueHead(
  waiting: readonly LiveConsultation[],
  vets: readonly VetPresence[],
): { head: LiveConsultation[]; truncated: boolean } {
  const bySeq = [...waiting].sort((a, b) => a.seq - b.seq);
  if (bySeq.length <= QUEUE_HEAD_LIMIT) return { head: bySeq, truncated: false };
  if (vets.length === 0) return { head: [], truncated: false };
  const lists = vets.map((v) => v.skills?.species ?? []);
  // Each range in arrival order: the waiting of some species (or all), and each urgent class of them.
  const withClasses = (of: LiveConsultation[]) => [
    of,
    ...(["t", "e", "p"] as const).map((k) => of.filter((c) => urgentClassOf(c) === k)),
  ];
  const ranges = lists.some((l) => l.length === 0)
    ? withClasses(bySeq)
    : [...new Set(lists.flat()), ""].flatMap((sp) => withClasses(bySeq.filter((c) => (c.species ?? "") === sp)));
  const head = new Set<LiveConsultation>();
  for (const range of ranges) for (const c of range.slice(0, QUEUE_HEAD_LIMIT)) head.add(c);
  return { head: [...head].sort((a, b) => a.seq - b.seq), truncated: ranges.some((r) => r.length > QUEUE_HEAD_LIMIT) };
}

/** The consultations waiting for an offer, from their ids. */
export function waitingOf(
  consultations: ReadonlyMap<string, LiveConsultation>,
  waiting: Iterable<string>,
): LiveConsultation[] {
  return [...waiting].map((id) => consultations.get(id)).filter((x): x is LiveConsultation => x !== undefined);
}

/** A routing snapshot of `queue` (without profiles) and every vet, deep-copied. */
export function snapshotOf(queue: readonly LiveConsultation[], vets: Iterable<VetPresence>): RoutingSnapshot {
  return {
    queue: queue.map(({ profile: _profile, ...entry }) => structuredClone(entry)),
    vets: [...vets].map((v) => structuredClone(v)),
  };
}
