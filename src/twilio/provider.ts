import type { Config } from "../config.js";
import type { Logger } from "../lib/logger.js";
import { createLiveProvider } from "./live-provider.js";
import { createOfflineProvider } from "./offline-provider.js";

/**
 * The Twilio REST operations the gateway needs for a consultation (PROTOCOL §5).
 * `offline` makes no calls and mints SIDs locally; `live` calls Twilio (or
 * `TWILIO_API_BASE_URL`). Failures reach the caller as `AppError(502)`.
 */
export interface TwilioProvider {
  readonly mode: "offline" | "live";
  /**
   * Offline only: a fresh Conversation SID, made locally with no outside effect. The engine
   * then stores it in the accept step itself instead of creating the Conversation after.
   */
  localConversationSid?(): string;
  /**
   * Creates the consultation's Conversation in the chat service and adds both participants
   * (identities). Idempotent on `uniqueName` in live mode: calling it again after a partial
   * failure reuses the existing Conversation and participants.
   */
  createConversation(input: {
    uniqueName: string;
    friendlyName?: string;
    userIdentity: string;
    vetIdentity: string;
  }): Promise<{ sid: string }>;
  /** Sets the Conversation's State to closed. */
  closeConversation(sid: string): Promise<void>;
  /** Creates a `group` Video room. Idempotent on `uniqueName` while that room is in progress. */
  createRoom(input: { uniqueName: string }): Promise<{ sid: string }>;
  /** Sets the room's Status to completed; a room that is no longer in progress counts as done. */
  completeRoom(sid: string): Promise<void>;
}

/**
 * How the live provider retries transient failures (network errors, 429, 5xx) of each REST
 * call: `attempts` tries in all, waiting `baseDelayMs * 2^(n-1)` after the n-th failure.
 */
export interface RetryPolicy {
  readonly attempts: number;
  readonly baseDelayMs: number;
}

/** 3 attempts, waiting 100 ms then 200 ms (a 4th attempt, if configured, would wait 400 ms). */
export const DEFAULT_RETRY_POLICY: RetryPolicy = Object.freeze({ attempts: 3, baseDelayMs: 100 });

/** Picks the implementation by `cfg.mode`. `opts.retry` applies to live mode (tests shorten it). */
export function createTwilioProvider(
  cfg: Config["twilio"],
  logger: Logger,
  opts: { retry?: RetryPolicy } = {},
): TwilioProvider {
  return cfg.mode === "live"
    ? createLiveProvider(cfg, logger, opts.retry ?? DEFAULT_RETRY_POLICY)
    : createOfflineProvider(logger);
}
