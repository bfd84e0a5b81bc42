import type { ResolvedConfig } from "../config.js";
import type { TwilioProvider } from "../domain/ports.js";
import type { Logger } from "../lib/logger.js";
import { createLiveProvider, DEFAULT_RETRY_POLICY, type RetryPolicy } from "./live-provider.js";
import { createOfflineProvider } from "./offline-provider.js";

/** Picks the implementation by `cfg.mode`. `opts.retry` applies to live mode (tests shorten it). */
export function createTwilioProvider(
  cfg: ResolvedConfig["twilio"],
  logger: Logger,
  opts: { retry?: RetryPolicy } = {},
): TwilioProvider {
  return cfg.mode === "live"
    ? createLiveProvider(cfg, logger, opts.retry ?? DEFAULT_RETRY_POLICY)
    : createOfflineProvider(logger);
}
