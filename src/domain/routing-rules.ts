/**
 * Who may take which request, and in what order requests are served (PROTOCOL §4).
 *
 * The one statement of the rules: the planner chooses with them, the memory store checks
 * its atomic steps with them, and the Redis store's Lua (`commands/includes/rules.lua`)
 * mirrors them under the same names; the routing-store contract suite pins that the two
 * stores agree, and a property test (`test/routing-store/redis/commands/includes/rules.test.ts`) that
 * every decision of the two agrees.
 */
import type { LiveConsultation, PriorityClass, VetPresence } from "./types.js";

/** The numbers the rules depend on; every node must use the same. */
export interface RoutingRules {
  /** `VET_MAX_CONSULTS`: chats at once for a vet with no `max_chats` of their own. */
  maxConsults: number;
  /** `LANGUAGE_WAIT_MS`: how long a request waits for a vet who speaks its language. */
  languageWaitMs: number;
  /** `PRIORITY_AGING_MS`: each period waited raises a request one class. */
  priorityAgingMs: number;
  /** `LICENSING=on`: a treatment request goes only to vets licensed for its region. */
  licensing: boolean;
}

/**
 * The head of the queue: for the species a vet treats, this many of the requests waiting
 * longest (by arrival, `seq`) and as many of each urgent class ({@link urgentClassOf}). A
 * routing pass made for an event plans from the head of the free vets, and a store's claim
 * reads its vet's to refuse a stale, out-of-order plan: a bounded cost however long the
 * queue. Within a class arrival order is age order and aging lifts the older first, so
 * serving order is exact within the head; a request behind it can be passed over only while
 * a free vet can take nothing in it, until a whole-queue read (see `routing-pass.ts`).
 */
export const QUEUE_HEAD_LIMIT = 200;

/** The class an urgent request is kept apart by in the head of the queue; null for everyone else. */
export function urgentClassOf(c: Pick<RoutedRequest, "transferred" | "priority">): "t" | "e" | "p" | null {
  if (c.transferred === true) return "t";
  if (c.priority === "emergency") return "e";
  return c.priority === "protected" ? "p" : null;
}

export const DEFAULT_LANGUAGE_WAIT_MS = 60_000;
export const DEFAULT_PRIORITY_AGING_MS = 300_000;
/** `LICENSE_WAIT_MS` when the routing config has none (PROTOCOL §4). */
export const DEFAULT_LICENSE_WAIT_MS = 120_000;

/** The rules of a routing config (`languageWaitMs` and `priorityAgingMs` default as in §4; licensing off). */
export function routingRules(cfg: {
  vetMaxConsults: number;
  languageWaitMs?: number | undefined;
  priorityAgingMs?: number | undefined;
  licensing?: boolean | undefined;
}): RoutingRules {
  return {
    maxConsults: cfg.vetMaxConsults,
    languageWaitMs: cfg.languageWaitMs ?? DEFAULT_LANGUAGE_WAIT_MS,
    priorityAgingMs: cfg.priorityAgingMs ?? DEFAULT_PRIORITY_AGING_MS,
    licensing: cfg.licensing ?? false,
  };
}

/** What the rules read of a request. */
export type RoutedRequest = Pick<
  LiveConsultation,
  | "type"
  | "seq"
  | "createdAt"
  | "excludedVetIds"
  | "transferred"
  | "species"
  | "language"
  | "priority"
  | "region"
  | "care"
> &
  Partial<Pick<LiveConsultation, "referralOf" | "requestedVetId">>;

/** Chat consultations the vet may hold at once: their `max_chats`, else `VET_MAX_CONSULTS`. */
export function chatCapacity(v: VetPresence, maxConsults: number): number {
  return v.skills?.maxChats ?? maxConsults;
}

/**
 * A vet can receive an offer at all: connected, available, holding no offer, not in
 * wrap-up, not in a video consultation (a video is held alone) and below their chat capacity.
 */
export function isEligible(v: VetPresence, maxConsults: number): boolean {
  return (
    v.connections > 0 &&
    v.status === "available" &&
    v.offerConsultationId === null &&
    v.wrapupUntil === null &&
    v.holdsVideo !== true &&
    v.activeConsultationIds.length < chatCapacity(v, maxConsults)
  );
}

/** The vet treats the species (a vet with no species list treats all; a pet with none goes to anyone). */
export function treatsSpecies(v: VetPresence, species: string | null | undefined): boolean {
  const list = v.skills?.species ?? [];
  return !species || list.length === 0 || list.includes(species);
}

/**
 * The vet holds a licence for `region`: the region itself or its country (`US` covers
 * `US-CA`; `US-CA` does not cover `US-NY`, nor `US`). No region: no licence can match.
 */
export function licensedFor(v: VetPresence, region: string | null | undefined): boolean {
  if (!region) return false;
  const licenses = v.skills?.licenses ?? [];
  const dash = region.indexOf("-");
  return licenses.includes(region) || (dash > 0 && licenses.includes(region.slice(0, dash)));
}

/** The vet may take the request's care: advice anyone; treatment, with licensing on, only where licensed. */
export function mayGiveCare(v: VetPresence, c: Pick<RoutedRequest, "care" | "region">, licensing: boolean): boolean {
  return !licensing || c.care === "advice" || licensedFor(v, c.region);
}

/** Languages a vet speaks (`["en"]` when never set). */
export function languagesOf(v: VetPresence): readonly string[] {
  return v.skills?.languages ?? ["en"];
}

/** The request still waits for a vet who speaks its language. */
export function inLanguageWindow(
  c: Pick<RoutedRequest, "language" | "createdAt">,
  now: number,
  languageWaitMs: number,
): boolean {
  return !!c.language && now < c.createdAt + languageWaitMs;
}

/**
 * The vet may be offered this request now: eligible, not excluded from it, treats its
 * species, may give its care (licensing), has room for its channel (a video only to a vet
 * holding nothing) and, while the request is in its language window, speaks its language
 * (`ignoreLanguage`: the owner asked for this vet by name, or talk-to-vet, which cannot wait).
 */
export function canTake(
  v: VetPresence,
  c: RoutedRequest,
  now: number,
  rules: RoutingRules,
  opts: { ignoreLanguage?: boolean } = {},
): boolean {
  if (!isEligible(v, rules.maxConsults)) return false;
  if (c.excludedVetIds.includes(v.vetId)) return false;
  if (!treatsSpecies(v, c.species)) return false;
  if (!mayGiveCare(v, c, rules.licensing)) return false;
  if (c.type === "video" && v.activeConsultationIds.length > 0) return false;
  // A referral (PROTOCOL §10) goes only to the vet it names, and its language binds.
  if (c.referralOf && c.requestedVetId != null && c.requestedVetId !== v.vetId) return false;
  if (c.referralOf && c.language && !languagesOf(v).includes(c.language)) return false;
  if (!opts.ignoreLanguage && inLanguageWindow(c, now, rules.languageWaitMs) && !languagesOf(v).includes(c.language!))
    return false;
  return true;
}

const CLASS_RANK: Record<PriorityClass, number> = { emergency: 1, protected: 2, normal: 3 };

/**
 * The request's class now, as a rank (smaller is served first): 0 transferred, 1
 * emergency, 2 protected, 3 everyone else; every `PRIORITY_AGING_MS` waited lifts it one
 * class, up to emergency (transferred stays its own).
 */
export function priorityRank(
  c: Pick<RoutedRequest, "transferred" | "priority" | "createdAt">,
  now: number,
  agingMs: number,
): number {
  if (c.transferred === true) return 0;
  const base = CLASS_RANK[c.priority ?? "normal"];
  const lifted = agingMs > 0 ? Math.floor(Math.max(0, now - c.createdAt) / agingMs) : 0;
  return Math.max(1, base - lifted);
}

/** Queue order at `now`: class (after aging), then arrival. */
export function queueComparator(now: number, agingMs: number) {
  return (
    a: Pick<RoutedRequest, "transferred" | "priority" | "createdAt" | "seq">,
    b: Pick<RoutedRequest, "transferred" | "priority" | "createdAt" | "seq">,
  ): number => priorityRank(a, now, agingMs) - priorityRank(b, now, agingMs) || a.seq - b.seq;
}

/** The request's class from who asks: emergency, a subscribed protection plan, or neither. */
export function priorityClassOf(emergency: boolean, protectedOwner: boolean): PriorityClass {
  if (emergency) return "emergency";
  return protectedOwner ? "protected" : "normal";
}
