/**
 * The timekeeper: everything driven by time. Deadlines (offer timeout, queue expiry, user
 * grace, wrap-up, vet grace, the advice fallback) fire only when {@link Timekeeper.tick} runs, so tests drive them with a
 * manual clock. It also keeps this node's heartbeat, reaps dead nodes, and drains on SIGTERM.
 */
import type { Clock } from "../lib/clock.js";
import type { CareFallback } from "./care-fallback.js";
import type { Logger } from "../lib/logger.js";
import type { RoutingConfig } from "./engine-config.js";
import type { LedgerWriter } from "./ledger-writer.js";
import type { Lifecycle } from "./lifecycle.js";
import type { Notifier } from "./ports.js";
import type { QueuePositions } from "./queue-positions.js";
import type { Rebuilder } from "./rebuild.js";
import type { RoutingPass } from "./routing-pass.js";
import type { NodeCleanup, RoutingStore } from "./routing-store.js";
import { QUEUE_HEAD_LIMIT } from "./routing-rules.js";
import { isReferralEntryId, publicId, type Deadline } from "./types.js";
import type { Referrals } from "./referrals.js";
import type { VetHandover } from "./vet-handover.js";

// Deadlines claimed per tick.
const DUE_BATCH = 200;
// How long a drain waits for ledger writes still being retried.
const DRAIN_FLUSH_MS = 5000;

export interface TimekeeperDeps {
  store: RoutingStore;
  lifecycle: Lifecycle;
  routingPass: RoutingPass;
  positions: QueuePositions;
  ledgerWriter: LedgerWriter;
  notifier: Notifier;
  clock: Clock;
  logger: Logger;
  nodeId: string;
  routing: RoutingConfig;
  onNodeReaped?: (() => void) | undefined;
  /** Checks the live state's epoch each tick and rebuilds it when lost (PROTOCOL §6). */
  rebuilder?: Rebuilder | undefined;
  /** Vet grace periods (`vet_grace` deadlines) and hand-over. */
  vetHandover?: VetHandover | undefined;
  /** Treatment requests that become advice (`license` deadlines, PROTOCOL §4). */
  careFallback?: CareFallback | undefined;
  /** Referrals whose `TRANSFER_TIMEOUT_MS` ran out (their entries' `queue` deadlines). */
  referrals?: Referrals | undefined;
}

/** With a queue longer than its head, the timer's pass reads it whole on every this many ticks (1 s). */
export const WHOLE_QUEUE_EVERY = 10;

export class Timekeeper {
  private readonly deps: TimekeeperDeps;
  /** When this node last heartbeated; 0 before the first. */
  private lastHeartbeat = 0;
  /** Ticks since the timer's pass last read the whole queue. */
  private sinceWhole = 0;

  constructor(deps: TimekeeperDeps) {
    this.deps = deps;
  }

  /**
   * Runs everything time-driven once: heartbeat, dead-node cleanup, due deadlines, a routing
   * pass as a safety net, and the queue places owners are due.
   */
  async tick(): Promise<void> {
    const { store, clock, routing, logger, nodeId } = this.deps;
    const now = clock.now();
    const rebuilder = this.deps.rebuilder;
    if (rebuilder) {
      const epoch = await rebuilder.check();
      // Another node is rebuilding: nothing here is safe to act on until its marker is set.
      if (epoch === "wait") return;
      // A new live state does not know this node yet: heartbeat now, and that is no reaping.
      if (epoch === "changed") this.lastHeartbeat = 0;
    }
    if (this.lastHeartbeat === 0 || now - this.lastHeartbeat >= routing.presenceTtlMs / 3) {
      const registered = await store.heartbeat(nodeId, now, routing.presenceTtlMs);
      // Unknown because the live state was lost since the check: the next tick rebuilds.
      if (!registered && this.lastHeartbeat !== 0 && !(await rebuilder?.epochChanged())) {
        logger.warn({ node: nodeId }, "this node was reaped after a pause; its sockets must reconnect");
        this.deps.onNodeReaped?.();
      }
      this.lastHeartbeat = now;
    }
    for (const cleanup of await store.reapDeadNodes(now)) await this.afterNodeCleanup(cleanup);
    for (const d of await store.claimDue(now, DUE_BATCH)) {
      try {
        await this.onDeadline(d);
      } catch (err) {
        logger.error({ err, deadline: d }, "deadline handling failed");
      }
    }
    // A long queue is read whole once a second, not every tick: that read grows with it.
    const full = this.deps.positions.queueLength() <= QUEUE_HEAD_LIMIT || ++this.sinceWhole >= WHOLE_QUEUE_EVERY;
    if (full) this.sinceWhole = 0;
    await this.deps.routingPass.run({ full });
    // Places from the read just made: between whole reads the queue read last is stale.
    if (full) this.deps.positions.sendChanges();
  }

  /** SIGTERM: this node's vets leave routing and their offers go to vets elsewhere at once. */
  async drain(): Promise<void> {
    const cleanup = await this.deps.store.removeNode(this.deps.nodeId, this.deps.clock.now());
    await this.afterNodeCleanup(cleanup);
    // Bounded: the database may be away; close() then gives up on what is left.
    await this.deps.ledgerWriter.flush(DRAIN_FLUSH_MS);
  }

  private async onDeadline(d: Deadline): Promise<void> {
    switch (d.kind) {
      case "offer":
        return this.onOfferTimeout(d.ref);
      case "queue":
        // A referral's entry: TRANSFER_TIMEOUT_MS passed with no taker (PROTOCOL §10).
        if (isReferralEntryId(d.ref)) return this.deps.referrals?.expired(d.ref);
        return this.deps.lifecycle.closeOnDeadline("queue", d.ref, "expired", "queue_timeout");
      case "grace":
        return this.deps.lifecycle.closeOnDeadline("grace", d.ref, "cancelled", "user_gone");
      case "wrapup":
        await this.deps.store.endWrapup(Number(d.ref), this.deps.clock.now());
        await this.deps.routingPass.run();
        return;
      case "vet_grace":
        await this.deps.vetHandover?.graceExpired(Number(d.ref));
        return;
      case "license":
        await this.deps.careFallback?.due(d.ref);
        return;
    }
  }

  /** Offer timeout: revoked, the vet is set away (`offer_timeout`), the next vet is offered. */
  private async onOfferTimeout(consultationId: string): Promise<void> {
    const { store, clock, notifier } = this.deps;
    const c = await store.getConsultation(consultationId);
    if (!c?.offer || c.offer.expiresAt > clock.now()) return;
    const vetId = c.offer.vetId;
    const released = await store.releaseOffer(c.id, vetId, { setAway: true });
    if (!released) return;
    this.deps.rebuilder?.noteVetStatus(vetId, "away");
    this.deps.lifecycle.offerEnded(c.id, vetId, "timeout", released.offer);
    notifier.toVet(vetId, "consult:offer_revoked", { consultation_id: publicId(c), reason: "timeout" });
    notifier.toVet(vetId, "presence", { status: "away", reason: "offer_timeout" });
    await this.deps.routingPass.run({ include: c.id });
  }

  /** A node left routing (dead or drained): its offers go back, its owners get their grace. */
  private async afterNodeCleanup(cleanup: NodeCleanup): Promise<void> {
    if (cleanup.offlineVetIds.length || cleanup.released.length) {
      this.deps.logger.warn(
        { node: cleanup.nodeId, vets: cleanup.offlineVetIds.length, offers: cleanup.released.length },
        "node left routing",
      );
    }
    for (const { consultation, vetId, offer } of cleanup.released)
      this.deps.lifecycle.offerEnded(consultation.id, vetId, "node_dead", offer);
    for (const u of cleanup.disconnectedUsers) await this.deps.lifecycle.startGrace(u.appId, u.userId);
    // Vets of a dead node keep their active consultations for VET_GRACE_MS, as after a disconnect.
    for (const vetId of cleanup.offlineVetIds)
      await this.deps.vetHandover?.afterDisconnect(await this.deps.store.getVet(vetId));
    if (cleanup.released.length)
      await Promise.all(
        cleanup.released.map(({ consultation }) => this.deps.routingPass.run({ include: consultation.id })),
      );
  }
}
