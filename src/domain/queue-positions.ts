/**
 * Queue positions and wait estimates (`consult:queued`, the `position` of answers and
 * resumes). Owns what this node last told the queued owners whose sockets it holds, the
 * latest routing snapshot and the running average of consultation length.
 *
 * Each node tells only the owner sockets it holds, from the snapshot its own routing pass
 * read this tick: places never cross nodes through pub/sub, never arrive twice, and a change
 * made on another node reaches them on the next tick all the same.
 */
import type { Clock } from "../lib/clock.js";
import type { Notifier } from "./ports.js";
import {
  inLanguageWindow,
  languagesOf,
  mayGiveCare,
  queueComparator,
  treatsSpecies,
  type RoutingRules,
} from "./routing-rules.js";
import type { QueueEntry, RoutingSnapshot, RoutingStore } from "./routing-store.js";
import type { LiveConsultation, VetPresence } from "./types.js";

/** What an estimate reads of a request: who could take it. */
type WaitingRequest = Pick<QueueEntry, "species" | "language" | "createdAt" | "excludedVetIds" | "care" | "region">;

// Estimated handling time of one consultation before any has been observed.
const DEFAULT_HANDLE_S = 300;

export interface QueuePositionsDeps {
  store: RoutingStore;
  notifier: Notifier;
  clock: Clock;
  rules: RoutingRules;
}

export class QueuePositions {
  private readonly deps: QueuePositionsDeps;
  /** The place and estimate this node last told each queued owner it holds (`"place:seconds"`), and when. */
  private readonly sent = new Map<string, { told: string; at: number }>();
  /** The latest routing snapshot (each tick's routing pass reads one) and when its read began. */
  private latest: RoutingSnapshot = { queue: [], vets: [] };
  private latestAt = 0;
  /** The vets as the latest read of any routing pass saw them (for the first place's estimate). */
  private vetsNow: VetPresence[] = [];
  /** Exponential moving average of consultation length, for `estimated_wait_s`. */
  private handleS = DEFAULT_HANDLE_S;

  constructor(deps: QueuePositionsDeps) {
    this.deps = deps;
  }

  /** Queued and offered requests in serving order now (class after aging, then arrival). */
  private inServingOrder(queue: readonly QueueEntry[]): QueueEntry[] {
    return [...queue].sort(queueComparator(this.deps.clock.now(), this.deps.rules.priorityAgingMs));
  }

  /**
   * The 1-based place of a queued or offered consultation in serving order (0 when not in
   * the queue), and the vets. Callers ask for one they saw waiting: missing from a read, it
   * left, or came back behind the part a paged read had passed (`RoutingStore.snapshot`),
   * so one more read tells which.
   */
  async positionOf(id: string): Promise<{ position: number; vets: VetPresence[]; entry: QueueEntry | null }> {
    const first = await this.readPositionOf(id);
    return first.entry ? first : this.readPositionOf(id);
  }

  private async readPositionOf(
    id: string,
  ): Promise<{ position: number; vets: VetPresence[]; entry: QueueEntry | null }> {
    const { queue, vets } = await this.deps.store.snapshot();
    const ordered = this.inServingOrder(queue);
    const i = ordered.findIndex((c) => c.id === id);
    return { position: i + 1, vets, entry: ordered[i] ?? null };
  }

  /**
   * Seconds until a vet is likely free for the request at `position`: the average
   * consultation length shared among the vets online and available who could take it
   * (its species; its care: with licensing, treatment only by vets licensed for its region;
   * its language while it waits for one; not a vet who declined or missed it, PROTOCOL §4).
   * Vets busy now count: they free up.
   */
  estimateWait(position: number, vets: VetPresence[], c?: WaitingRequest | null): number {
    const now = this.deps.clock.now();
    const able = vets.filter(
      (v) =>
        v.connections > 0 &&
        v.status === "available" &&
        (!c ||
          (treatsSpecies(v, c.species) &&
            mayGiveCare(v, c, this.deps.rules.licensing) &&
            !c.excludedVetIds.includes(v.vetId) &&
            (!inLanguageWindow(c, now, this.deps.rules.languageWaitMs) || languagesOf(v).includes(c.language!)))),
    ).length;
    if (able === 0) return Math.round(position * this.handleS);
    return Math.round((position * this.handleS) / able);
  }

  /** Place and estimate of a waiting consultation, for `consult:state`. */
  async waitingState(id: string): Promise<{ position: number; estimated_wait_s: number }> {
    const { position, vets, entry } = await this.positionOf(id);
    return { position, estimated_wait_s: this.estimateWait(position, vets, entry) };
  }

  /**
   * A request joined the queue at `position`: its owner's sockets on this node are told at
   * once, those on other nodes by their node's next tick. `reason` says why when it is not
   * new (`vet_left`: handed back by a vet who left, PROTOCOL §4); that one goes to every node
   * at once, because a later place from the tick would not carry the reason.
   */
  joined(c: LiveConsultation, position: number, reason?: string): void {
    const { notifier, clock } = this.deps;
    const estimated = this.estimateWait(position, this.vetsNow, c);
    // An advice request says so (PROTOCOL §4: the owner learns their request became advice).
    const care = c.care === "advice" ? { care: "advice" as const } : {};
    const payload = {
      consultation_id: c.id,
      position,
      estimated_wait_s: estimated,
      ...care,
      ...(reason ? { reason } : {}),
    };
    if (reason) notifier.toUser(c.appId, c.userId, "consult:queued", payload);
    else if (notifier.holdsUser(c.appId, c.userId)) notifier.toLocalUser(c.appId, c.userId, "consult:queued", payload);
    else return;
    this.sent.set(c.id, { told: `${position}:${estimated}`, at: clock.now() });
  }

  /** The whole-queue snapshot the timer's routing pass just read; `readAt`: when the read began. */
  saw(snapshot: RoutingSnapshot, readAt: number): void {
    this.latest = snapshot;
    this.latestAt = readAt;
    this.vetsNow = snapshot.vets;
  }

  /** The last whole-queue snapshot a routing pass read, and when its read began (null before the first). */
  lastWholeQueue(): { snapshot: RoutingSnapshot; readAt: number } | null {
    return this.latestAt === 0 ? null : { snapshot: this.latest, readAt: this.latestAt };
  }

  /** How many were queued or offered at the last whole-queue snapshot. */
  queueLength(): number {
    return this.latest.queue.length;
  }

  /**
   * The vets a pass for an event just read (with the head of the queue only): fresher
   * estimates for {@link joined}. Places sent on the tick keep the vets of their own read.
   */
  sawVets(vets: VetPresence[]): void {
    this.vetsNow = vets;
  }

  /** A consultation that was active for `ms` ended: feeds the wait estimate. */
  observeHandle(ms: number): void {
    this.handleS = this.handleS * 0.9 + (ms / 1000) * 0.1;
  }

  /**
   * Once per tick, after the routing pass: tells each queued owner whose socket this node
   * holds its new place and estimate, where either changed since this node last told it.
   * Under load that is at most one message per owner per tick, not one per departure; a
   * class risen by aging or a language window run out shows on the next tick.
   */
  sendChanges(): void {
    const { queue, vets } = this.latest;
    const { notifier } = this.deps;
    const live = new Set<string>();
    if (queue.length > 0) {
      const ordered = this.inServingOrder(queue);
      for (let i = 0; i < ordered.length; i++) {
        const c = ordered[i];
        live.add(c.id);
        // A referral's entry (PROTOCOL §10) waits ahead of others, but its owner is not waiting.
        if (c.referralOf || !notifier.holdsUser(c.appId, c.userId)) continue;
        const estimated = this.estimateWait(i + 1, vets, c);
        const told = `${i + 1}:${estimated}`;
        if (this.sent.get(c.id)?.told === told) continue;
        this.sent.set(c.id, { told, at: this.deps.clock.now() });
        notifier.toLocalUser(c.appId, c.userId, "consult:queued", {
          consultation_id: c.id,
          position: i + 1,
          estimated_wait_s: estimated,
        });
      }
    }
    // Gone from the queue; a request told after the snapshot's read began may just not be in it yet.
    for (const [id, { at }] of this.sent) if (!live.has(id) && at < this.latestAt) this.sent.delete(id);
  }
}
