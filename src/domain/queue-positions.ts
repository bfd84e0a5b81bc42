/**
 * Queue positions and wait estimates (`consult:queued`, the `position` of answers and
 * resumes). Owns what this node last told each queued owner, the vets seen by the latest
 * routing pass and the running average of consultation length.
 */
import type { Logger } from "../lib/logger.js";
import type { Notifier } from "./ports.js";
import type { RoutingStore } from "./routing-store.js";
import type { LiveConsultation, VetPresence } from "./types.js";

// Estimated handling time of one consultation before any has been observed.
const DEFAULT_HANDLE_S = 300;

export interface QueuePositionsDeps {
  store: RoutingStore;
  notifier: Notifier;
  logger: Logger;
}

export class QueuePositions {
  private readonly deps: QueuePositionsDeps;
  /** Requests left the queue since positions were last sent. */
  private changed = false;
  /** The place this node last told each queued owner. */
  private readonly sent = new Map<string, number>();
  /** Vets as of the latest routing pass, for wait estimates without another read. */
  private lastVets: VetPresence[] = [];
  /** Exponential moving average of consultation length, for `estimated_wait_s`. */
  private handleS = DEFAULT_HANDLE_S;

  constructor(deps: QueuePositionsDeps) {
    this.deps = deps;
  }

  /** The 1-based place of a queued or offered consultation (0 when not in the queue), and the vets. */
  async positionOf(id: string): Promise<{ position: number; vets: VetPresence[] }> {
    const { queue, vets } = await this.deps.store.snapshot();
    const i = queue.findIndex((c) => c.id === id);
    return { position: i < 0 ? 0 : i + 1, vets };
  }

  /**
   * Seconds until a vet is likely free for the request at `position`: the average
   * consultation length shared among the vets online and available.
   */
  estimateWait(position: number, vets: VetPresence[]): number {
    const online = vets.filter((v) => v.connections > 0 && v.status === "available").length;
    if (online === 0) return Math.round(position * this.handleS);
    return Math.round((position * this.handleS) / online);
  }

  /** Place and estimate of a waiting consultation, for `consult:state`. */
  async waitingState(id: string): Promise<{ position: number; estimated_wait_s: number }> {
    const { position, vets } = await this.positionOf(id);
    return { position, estimated_wait_s: this.estimateWait(position, vets) };
  }

  /**
   * A request joined the queue at `position`: its owner is told at once. `reason` says why
   * when it is not new (`vet_left`: handed back by a vet who left, PROTOCOL §4).
   */
  joined(c: LiveConsultation, position: number, reason?: string): void {
    this.sent.set(c.id, position);
    this.deps.notifier.toUser(c.appId, c.userId, "consult:queued", {
      consultation_id: c.id,
      position,
      estimated_wait_s: this.estimateWait(position, this.lastVets),
      ...(reason ? { reason } : {}),
    });
  }

  /** The vets a routing pass just read. */
  sawVets(vets: VetPresence[]): void {
    this.lastVets = vets;
  }

  /** A request left the queue: the owners behind it are told on the next tick. */
  queueChanged(): void {
    this.changed = true;
  }

  /** A consultation that was active for `ms` ended: feeds the wait estimate. */
  observeHandle(ms: number): void {
    this.handleS = this.handleS * 0.9 + (ms / 1000) * 0.1;
  }

  /** Once per tick: sends new places when requests left the queue; failures are only logged. */
  async sendIfChanged(): Promise<void> {
    if (!this.changed) return;
    await this.send().catch((err: unknown) => this.deps.logger.warn({ err }, "queue position update failed"));
  }

  /**
   * Tells queued owners their new place after requests left the queue. Coalesced per tick
   * and sent only where the place changed since this node last sent it: under load one
   * message per owner per tick, not one per owner per departure.
   */
  private async send(): Promise<void> {
    this.changed = false;
    const { queue, vets } = await this.deps.store.snapshot();
    const live = new Set<string>();
    for (let i = 0; i < queue.length; i++) {
      const c = queue[i];
      live.add(c.id);
      if (this.sent.get(c.id) === i + 1) continue;
      this.sent.set(c.id, i + 1);
      this.deps.notifier.toUser(c.appId, c.userId, "consult:queued", {
        consultation_id: c.id,
        position: i + 1,
        estimated_wait_s: this.estimateWait(i + 1, vets),
      });
    }
    for (const id of this.sent.keys()) if (!live.has(id)) this.sent.delete(id);
  }
}
