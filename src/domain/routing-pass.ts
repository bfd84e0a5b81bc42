/**
 * The routing pass (PROTOCOL §4): plan offers from a snapshot of the shared state and claim
 * them with the store's atomic step. Passes are serialised per node; a pass requested while
 * one runs makes it run once more, so no request for a pass is lost. Each caller waits for
 * one pass that started after its call, not for the loop: under load passes follow each
 * other without a gap, and an ack must not wait for the requests that came after it.
 *
 * A pass made for an event (a request, a vet free again) plans from the head of the queue
 * and the requests the event is about (`headSnapshot`), so its cost does not grow with the
 * queue and a new request is offered at once wherever it is. It reads the whole queue only
 * when more requests wait behind the head and a free vet got nothing from it that the last
 * whole-queue read did not already find with nothing to take in the state it is in now. The
 * timer's pass reads the whole queue (every tick, or once a second while the queue is longer
 * than its head: see the timekeeper) and gives queue positions their snapshot.
 */
import type { Clock } from "../lib/clock.js";
import type { LedgerWriter } from "./ledger-writer.js";
import { offerPayload } from "./outgoing-payloads.js";
import { eligibleVets, planOffers, type PlannedOffer } from "./planner.js";
import { routingRules, type RoutingRules } from "./routing-rules.js";
import type { Notifier } from "./ports.js";
import type { QueuePositions } from "./queue-positions.js";
import type { RoutingSnapshot, RoutingStore } from "./routing-store.js";
import type { VetPresence } from "./types.js";
import type { EngineObserver, RoutingConfig } from "./engine-config.js";

// Plans per pass when another node keeps changing the state under this one.
const PLAN_ROUNDS = 4;

export interface RoutingPassDeps {
  store: RoutingStore;
  notifier: Notifier;
  ledgerWriter: LedgerWriter;
  positions: QueuePositions;
  clock: Clock;
  routing: RoutingConfig;
  observer?: EngineObserver | undefined;
}

/** The callers of one pass: settled when it ends. */
interface Waiters {
  promise: Promise<void>;
  resolve: () => void;
  reject: (err: unknown) => void;
  /** One of them asked for the whole queue. */
  full: boolean;
  /** Requests they asked about, read wherever they are in the queue. */
  include: Set<string>;
}

function waiters(): Waiters {
  let resolve!: () => void;
  let reject!: (err: unknown) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject, full: false, include: new Set() };
}

/** What about a vet decides what it can take; when it changes, the vet may take more. */
function vetState(v: VetPresence): string {
  return `${v.idleSince}/${v.activeConsultationIds.length}/${v.holdsVideo === true}/${v.skills?.version ?? 0}`;
}

/** Free vets the plan gave nothing. */
function leftOver(snapshot: RoutingSnapshot, plan: readonly PlannedOffer[], maxConsults: number): VetPresence[] {
  const planned = new Set(plan.map((p) => p.vetId));
  return eligibleVets(snapshot.vets, maxConsults).filter((v) => !planned.has(v.vetId));
}

/** What a pass reads. */
export interface PassOptions {
  /** The whole queue, not only its head (the timer's pass). */
  full?: boolean;
  /** A request this pass is for (new, or back in the queue): planned even when it is behind the head. */
  include?: string;
}

export class RoutingPass {
  private readonly deps: RoutingPassDeps;
  /** A pass is running now. */
  private running = false;
  /** Callers of the pass after the running one (all asked while it ran), if any. */
  private next: Waiters | null = null;
  /**
   * Free vets the last whole-queue read left with nothing, by {@link vetState} then. A new
   * request is read by its own pass, so while a vet's state stays, the head is enough for it.
   */
  private readonly foundNothing = new Map<number, string>();

  constructor(deps: RoutingPassDeps) {
    this.deps = deps;
  }

  /** Runs a pass now, or once more after the running one; settles when that pass ends. */
  run(opts: PassOptions = {}): Promise<void> {
    this.next ??= waiters();
    if (opts.full) this.next.full = true;
    if (opts.include) this.next.include.add(opts.include);
    const { promise } = this.next;
    if (!this.running) void this.loop();
    return promise;
  }

  private async loop(): Promise<void> {
    this.running = true;
    try {
      for (let callers = this.next; callers; callers = this.next) {
        this.next = null;
        try {
          await this.once(callers.full, [...callers.include]);
          callers.resolve();
        } catch (err) {
          // Only this pass's callers hear of it; callers of the next pass get their own.
          callers.reject(err);
        }
      }
    } finally {
      this.running = false;
    }
  }

  /**
   * Reads the head (or, with `full`, the whole queue) and plans. Reads the whole queue after
   * the head when more wait behind it and a free vet got nothing from the head that the last
   * whole-queue read did not already leave with nothing in the state it is in now.
   */
  private async read(
    full: boolean,
    include: string[],
    rules: RoutingRules,
  ): Promise<{ plan: PlannedOffer[]; now: number }> {
    const { store, clock, positions } = this.deps;
    let readAt = clock.now();
    let snapshot = full ? await store.snapshot() : await store.headSnapshot(rules.maxConsults, include);
    let now = clock.now();
    let plan = planOffers(snapshot, rules, now);
    if (
      !full &&
      snapshot.truncated &&
      leftOver(snapshot, plan, rules.maxConsults).some((v) => this.foundNothing.get(v.vetId) !== vetState(v))
    ) {
      readAt = clock.now();
      snapshot = await store.snapshot();
      now = clock.now();
      plan = planOffers(snapshot, rules, now);
      full = true;
    }
    if (full) {
      positions.saw(snapshot, readAt);
      this.foundNothing.clear();
      for (const v of leftOver(snapshot, plan, rules.maxConsults)) this.foundNothing.set(v.vetId, vetState(v));
    } else positions.sawVets(snapshot.vets);
    return { plan, now };
  }

  private async once(full: boolean, include: string[]): Promise<void> {
    const { store, routing, notifier, ledgerWriter, observer } = this.deps;
    for (let round = 0; round < PLAN_ROUNDS; round++) {
      const rules = routingRules(routing);
      const { plan, now } = await this.read(full, include, rules);
      if (plan.length === 0) return;
      const expiresAt = now + routing.offerTimeoutMs;
      // Issued in plan order on one connection, so each claim's order check sees the ones before it.
      const results = await Promise.all(
        plan.map((p) => store.claimOffer(p.consultationId, p.vetId, now, expiresAt, rules)),
      );
      let lost = false;
      results.forEach((r, i) => {
        const p = plan[i];
        if (!r.ok) {
          lost = true;
          return;
        }
        const c = r.consultation;
        notifier.toVet(p.vetId, "consult:offer", offerPayload(c, p.requested, expiresAt));
        observer?.offer?.("offered");
        // A referral's offer (PROTOCOL §10) is recorded against its consultation, which stays active.
        const of = c.referralOf;
        if (of) ledgerWriter.writeBehind(of, (l) => l.referralOffered(of, p.vetId, now, expiresAt));
        else ledgerWriter.writeBehind(c.id, (l) => l.offerMade(c.id, p.vetId, now, expiresAt, p.requested));
      });
      // Another node changed the state under this plan: plan again from fresh state.
      if (!lost) return;
    }
  }
}
