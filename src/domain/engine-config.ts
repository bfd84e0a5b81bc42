/** Settings and observation hooks shared by the engine's parts. */
import type { OfferOutcome } from "./types.js";

/**
 * The routing timeouts and limits (`VET_MAX_CONSULTS`, `OFFER_TIMEOUT_MS`, …). Declared
 * here so the domain needs nothing from `config.ts`, which builds it from the environment.
 */
export interface RoutingConfig {
  vetMaxConsults: number;
  offerTimeoutMs: number;
  queueTimeoutMs: number;
  userGraceMs: number;
  presenceTtlMs: number;
  wrapupMs: number;
  /** A vet whose last connection dropped keeps their active consultations this long (PROTOCOL §4). */
  vetGraceMs: number;
  /** `LANGUAGE_WAIT_MS`: a request waits this long for a vet who speaks its language (PROTOCOL §4). */
  languageWaitMs?: number;
  /** `PRIORITY_AGING_MS`: each period waited raises a request one priority class; 0 = no aging. */
  priorityAgingMs?: number;
  /** `MAX_QUEUED_PER_APP`: consultations one app may have waiting (queued or offered); 0 or absent = no cap. */
  maxQueuedPerApp?: number;
  /** `LICENSING=on`: treatment goes only to vets licensed for the animal's region (PROTOCOL §4). Absent = off. */
  licensing?: boolean;
  /** `LICENSE_WAIT_MS`: a treatment request with `advice_fallback` becomes advice after this without a licensed vet. */
  licenseWaitMs?: number;
  /** `TRANSFER_TIMEOUT_MS`: a referral no vet accepted by then fails (PROTOCOL §10). Absent = 120000. */
  transferTimeoutMs?: number;
}

/** Optional observation hooks (metrics). */
export interface EngineObserver {
  matched?(waitMs: number): void;
  offer?(outcome: OfferOutcome | "offered"): void;
  finished?(status: "ended" | "cancelled" | "expired"): void;
  /** A ledger write behind failed (the database is away) and will be retried. */
  ledgerWriteRetry?(): void;
  /** A ledger write behind was given up: refused for good, or left unstored at shutdown. */
  ledgerWriteFailure?(reason: "rejected" | "shutdown"): void;
  /** This node rebuilt the live state from the ledger. */
  rebuilt?(): void;
}
