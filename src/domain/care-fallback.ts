/**
 * The advice fallback (PROTOCOL §4 licensing): a treatment request asked with
 * `advice_fallback` that finds no licensed vet within `LICENSE_WAIT_MS` becomes an advice
 * request, which any eligible vet may take. Its `license` deadline fires here.
 */
import type { Clock } from "../lib/clock.js";
import type { Logger } from "../lib/logger.js";
import { StorageUnavailableError } from "./errors.js";
import type { LedgerWriter } from "./ledger-writer.js";
import type { QueuePositions } from "./queue-positions.js";
import type { RoutingPass } from "./routing-pass.js";
import type { RoutingStore } from "./routing-store.js";

/** The reason `consult:queued` gives the owner whose request became advice. */
export const NO_LICENSED_VET = "no_licensed_vet";

// When the database cannot take the change, it is tried again after this.
const RETRY_MS = 1000;

export interface CareFallbackDeps {
  store: RoutingStore;
  ledgerWriter: LedgerWriter;
  positions: QueuePositions;
  routingPass: RoutingPass;
  clock: Clock;
  logger: Logger;
}

export class CareFallback {
  constructor(private readonly deps: CareFallbackDeps) {}

  /**
   * The request's licence wait is over. Still queued for treatment: recorded as advice
   * first (the database is the source of truth), then in the live state, then the owner is
   * told and a routing pass offers it to any eligible vet. Offered right now, a licensed vet
   * was found: the wait is checked again when that offer has run out, in case it is refused.
   */
  async due(id: string): Promise<void> {
    const { store, clock, ledgerWriter } = this.deps;
    const c = await store.getConsultation(id);
    if (!c || c.status === "active" || c.care === "advice") return;
    const now = clock.now();
    if (c.status === "offered" && c.offer) {
      await store.addDeadline("license", id, Math.max(c.offer.expiresAt, now) + 1);
      return;
    }
    // Armed again first: if anything below fails (the database, or Redis after the commit),
    // this runs again and finishes the change; once it is advice, that run returns at once.
    await store.addDeadline("license", id, now + RETRY_MS);
    let changed = false;
    try {
      await ledgerWriter.writeThrough(id, async (l) => {
        changed = await l.changeCare(id, "advice", now, { care: "advice", reason: NO_LICENSED_VET });
      });
    } catch (err) {
      if (!(err instanceof StorageUnavailableError)) throw err;
      return;
    }
    // The database has it taken or closed by now; the live state follows from that write.
    if (!changed) return;
    const advised = await store.setCare(id, "advice");
    if (!advised) return;
    if (advised.status === "active") {
      // An accept raced the change: the vet holds it as advice now, as recorded.
      this.deps.logger.info({ consultation: id }, "a request became advice as a vet took it");
      return;
    }
    const { position } = await this.deps.positions.positionOf(id);
    this.deps.positions.joined(advised, Math.max(position, 1), NO_LICENSED_VET);
    await this.deps.routingPass.run({ include: id });
  }
}
