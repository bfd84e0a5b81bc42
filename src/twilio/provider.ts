import type { Config } from "../config.js";
import type { Logger } from "../lib/logger.js";
import { createLiveProvider } from "./live-provider.js";
import { createOfflineProvider } from "./offline-provider.js";
import type { TwilioProvider } from "../domain/ports.js";

// The interface lives with the other ports; re-exported here until src/twilio is reorganised.
export type { TwilioProvider } from "../domain/ports.js";

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
