/** Settings and observation hooks shared by the engine's parts. */
import type { Config } from "../config.js";
import type { OfferOutcome } from "./types.js";

/** The routing timeouts and limits (`VET_MAX_CONSULTS`, `OFFER_TIMEOUT_MS`, …). */
export type RoutingConfig = Config["routing"];

/** Optional observation hooks (metrics). */
export interface EngineObserver {
  matched?(waitMs: number): void;
  offer?(outcome: OfferOutcome | "offered"): void;
  finished?(status: "ended" | "cancelled" | "expired"): void;
  /** A history write behind failed (the database is away) and will be retried. */
  historyRetry?(): void;
  /** A history write behind was given up: refused for good, or left unstored at shutdown. */
  historyFailure?(reason: "rejected" | "shutdown"): void;
}
