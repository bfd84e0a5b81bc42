/**
 * Queue positions and wait estimates (`consult:queued`, the `position` of answers and
 * resumes). Owns what this node last told each queued owner, the vets seen by the latest
 * routing pass and the running average of consultation length.
 */
import type { Clock } from "../lib/clock.js";
import type { Logger } from "../lib/logger.js";
import type { Notifier } from "./ports.js";
import { inLanguageWindow, languagesOf, queueComparator, treatsSpecies, type RoutingRules } from "./routing-rules.js";
import type { QueueEntry, RoutingStore } from "./routing-store.js";
import type { LiveConsultation, VetPresence } from "./types.js";

/** What an estimate reads of a request: who could take it. */
type WaitingRequest = Pick<QueueEntry, "species" | "language" | "createdAt" | "excludedVetIds">;

// Estimated handling time of one consultation before any has been observed.
const DEFAULT_HANDLE_S = 300;

export interface QueuePositionsDeps {
  store: RoutingStore;
  notifier: Notifier;
  logger: Logger;
  clock: Clock;
  rules: RoutingRules;
}

export class QueuePositions {
  private readonly deps: QueuePositionsDeps;
  /** Requests left the queue since positions were last sent. */
  private changed = false;
  /** The place and estimate this node last told each queued owner (`"place:seconds"`). */
  private readonly sent = new Map<string, string>();
  /** Vets as of the latest routing pass, for wait estimates without another read. */
  private lastVets: VetPresence[] = [];
  /** The next time a waiting request rises a class or leaves its language window: places and estimates may change. */
  private nextBoundary = Infinity;
  /** Exponential moving average of consultation length, for `estimated_wait_s`. */
  private handleS = DEFAULT_HANDLE_S;

  constructor(deps: QueuePositionsDeps) {
    this.deps = deps;
  }

  /** Queued and offered requests in serving order now (class after aging, then arrival). */
  private async servingOrder(): Promise<{ queue: QueueEntry[]; vets: VetPresence[] }> {
    const { queue, vets } = await this.deps.store.snapshot();
    return { queue: queue.sort(queueComparator(this.deps.clock.now(), this.deps.rules.priorityAgingMs)), vets };
  }

  /** The 1-based place of a queued or offered consultation in serving order (0 when not in the queue), and the vets. */
  async positionOf(id: string): Promise<{ position: number; vets: VetPresence[]; entry: QueueEntry | null }> {
    const { queue, vets } = await this.servingOrder();
    const i = queue.findIndex((c) => c.id === id);
    return { position: i < 0 ? 0 : i + 1, vets, entry: queue[i] ?? null };
  }

  /**
   * Seconds until a vet is likely free for the request at `position`: the average
   * consultation length shared among the vets online and available who could take it
   * (its species; its language while it waits for one; not a vet who declined or missed
   * it, PROTOCOL §4). Vets busy now count: they free up.
   */
  estimateWait(position: number, vets: VetPresence[], c?: WaitingRequest | null): number {
    const now = this.deps.clock.now();
    const able = vets.filter(
      (v) =>
        v.connections > 0 &&
        v.status === "available" &&
        (!c ||
          (treatsSpecies(v, c.species) &&
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
   * A request joined the queue at `position`: its owner is told at once. `reason` says why
   * when it is not new (`vet_left`: handed back by a vet who left, PROTOCOL §4).
   */
  joined(c: LiveConsultation, position: number, reason?: string): void {
    const estimated = this.estimateWait(position, this.lastVets, c);
    this.sent.set(c.id, `${position}:${estimated}`);
    this.deps.notifier.toUser(c.appId, c.userId, "consult:queued", {
      consultation_id: c.id,
      position,
      estimated_wait_s: estimated,
      ...(reason ? { reason } : {}),
    });
    // A request above the ordinary class may go ahead of others: their places change.
    if (c.transferred === true || (c.priority ?? "normal") !== "normal") this.changed = true;
    this.nextBoundary = Math.min(this.nextBoundary, this.boundaryOf(c, this.deps.clock.now()));
  }

  /** The vets a routing pass just read; estimates change when the vets available change. */
  sawVets(vets: VetPresence[]): void {
    const available = (list: VetPresence[]) => list.filter((v) => v.connections > 0 && v.status === "available").length;
    if (available(vets) !== available(this.lastVets)) this.changed = true;
    this.lastVets = vets;
  }

  /** A request left the queue: the owners behind it are told on the next tick. */
  queueChanged(): void {
    this.changed = true;
  }

  /** After `now`, when the request next rises a class (aging) or leaves its language window. */
  private boundaryOf(c: Pick<QueueEntry, "createdAt" | "language" | "transferred">, now: number): number {
    const { priorityAgingMs, languageWaitMs } = this.deps.rules;
    let at = Infinity;
    if (priorityAgingMs > 0 && c.transferred !== true) {
      const periods = Math.floor(Math.max(0, now - c.createdAt) / priorityAgingMs) + 1;
      at = c.createdAt + periods * priorityAgingMs;
    }
    if (inLanguageWindow(c, now, languageWaitMs)) at = Math.min(at, c.createdAt + languageWaitMs);
    return at;
  }

  /** A consultation that was active for `ms` ended: feeds the wait estimate. */
  observeHandle(ms: number): void {
    this.handleS = this.handleS * 0.9 + (ms / 1000) * 0.1;
  }

  /** Once per tick: sends new places when requests left the queue; failures are only logged. */
  async sendIfChanged(): Promise<void> {
    if (this.deps.clock.now() >= this.nextBoundary) this.changed = true;
    if (!this.changed) return;
    await this.send().catch((err: unknown) => this.deps.logger.warn({ err }, "queue position update failed"));
  }

  /**
   * Tells queued owners their new place and estimate after the queue or the vets changed.
   * Coalesced per tick and sent only where either changed since this node last sent it:
   * under load one message per owner per tick, not one per owner per departure.
   */
  private async send(): Promise<void> {
    this.changed = false;
    const { queue, vets } = await this.servingOrder();
    const now = this.deps.clock.now();
    this.nextBoundary = Infinity;
    for (const c of queue) this.nextBoundary = Math.min(this.nextBoundary, this.boundaryOf(c, now));
    const live = new Set<string>();
    for (let i = 0; i < queue.length; i++) {
      const c = queue[i];
      live.add(c.id);
      const estimated = this.estimateWait(i + 1, vets, c);
      const told = `${i + 1}:${estimated}`;
      if (this.sent.get(c.id) === told) continue;
      this.sent.set(c.id, told);
      this.deps.notifier.toUser(c.appId, c.userId, "consult:queued", {
        consultation_id: c.id,
        position: i + 1,
        estimated_wait_s: estimated,
      });
    }
    for (const id of this.sent.keys()) if (!live.has(id)) this.sent.delete(id);
  }
}
