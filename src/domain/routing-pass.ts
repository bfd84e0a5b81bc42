/**
 * The routing pass (PROTOCOL §4): plan offers from a snapshot of the shared state and claim
 * them with the store's atomic step. Passes are serialised per node; a pass requested while
 * one runs makes it run once more, so no request for a pass is lost.
 */
import type { Clock } from "../lib/clock.js";
import type { HistoryWriter } from "./history-writer.js";
import { offerPayload } from "./payloads.js";
import { planOffers } from "./planner.js";
import { routingRules } from "./routing-rules.js";
import type { Notifier } from "./ports.js";
import type { QueuePositions } from "./queue-positions.js";
import type { RoutingStore } from "./routing-store.js";
import type { EngineObserver, RoutingConfig } from "./engine-config.js";

// Plans per pass when another node keeps changing the state under this one.
const PLAN_ROUNDS = 4;

export interface RoutingPassDeps {
  store: RoutingStore;
  notifier: Notifier;
  history: HistoryWriter;
  positions: QueuePositions;
  clock: Clock;
  routing: RoutingConfig;
  observer?: EngineObserver | undefined;
}

export class RoutingPass {
  private readonly deps: RoutingPassDeps;
  /** The pass running now, if any. */
  private running: Promise<void> | null = null;
  /** Another pass was asked for while one ran. */
  private again = false;

  constructor(deps: RoutingPassDeps) {
    this.deps = deps;
  }

  /** Runs a pass now, or joins the running one (which then runs once more). */
  run(): Promise<void> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      try {
        do {
          this.again = false;
          await this.once();
        } while (this.again);
      } finally {
        this.running = null;
      }
    })();
    return this.running;
  }

  private async once(): Promise<void> {
    const { store, routing, notifier, history, observer } = this.deps;
    for (let round = 0; round < PLAN_ROUNDS; round++) {
      const readAt = this.deps.clock.now();
      const snapshot = await store.snapshot();
      this.deps.positions.saw(snapshot, readAt);
      const now = this.deps.clock.now();
      const rules = routingRules(routing);
      const plan = planOffers(snapshot, rules, now);
      if (plan.length === 0) return;
      const expiresAt = now + routing.offerTimeoutMs;
      // Issued in plan order on one connection, so each claim's order check sees the ones before it.
      const results = await Promise.all(plan.map((p) => store.claimOffer(p.consultationId, p.vetId, now, expiresAt, rules)));
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
        history.writeBehind(c.id, (l) => l.offerMade(c.id, p.vetId, now, expiresAt, p.requested));
      });
      // Another node changed the state under this plan: plan again from fresh state.
      if (!lost) return;
    }
  }
}
