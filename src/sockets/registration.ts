/**
 * A socket's registration in routing (`vetConnected` / `userConnected`) after its handshake.
 * When the store or the database is away at that moment, the socket stays connected and the
 * registration is tried again with backoff until it succeeds or the socket leaves: a socket
 * must never stay connected yet unknown to routing (a vet who would silently get no offers).
 */
import type { Logger } from "../lib/logger.js";

/** First wait after a failed registration; doubles per attempt up to {@link MAX_RETRY_MS}. */
export const FIRST_RETRY_MS = 250;
export const MAX_RETRY_MS = 5000;

export interface Registration {
  /** Settles after the first attempt, whatever its outcome (events wait for it). */
  readonly firstAttempt: Promise<void>;
  /** Whether the socket is registered now. */
  registered(): boolean;
  /**
   * Stops retrying (the socket left). Resolves once no attempt is running, so the socket's
   * removal from routing can never be overtaken by a registration still in flight.
   */
  stop(): Promise<void>;
}

/**
 * Runs `register` now and, while it fails, again after 250 ms doubling to 5 s. The first
 * failure is logged as an error with `context`; a later success as info.
 */
export function startRegistration(
  register: () => Promise<void>,
  logger: Logger,
  context: Record<string, unknown>,
): Registration {
  let done = false;
  let stopped = false;
  let timer: NodeJS.Timeout | null = null;
  let attempt = 0;
  let running: Promise<void> = Promise.resolve();
  const tryOnce = (): Promise<void> => (running = attemptNow());
  const attemptNow = async (): Promise<void> => {
    try {
      await register();
      done = true;
      if (attempt > 0) logger.info({ ...context, attempts: attempt + 1 }, "socket registered after retries");
    } catch (err) {
      if (attempt === 0) logger.error({ err, ...context }, "socket registration failed; retrying");
      attempt++;
      if (stopped) return;
      timer = setTimeout(
        () => {
          timer = null;
          if (!stopped) void tryOnce();
        },
        Math.min(MAX_RETRY_MS, FIRST_RETRY_MS * 2 ** Math.min(attempt - 1, 10)),
      );
    }
  };
  return {
    firstAttempt: tryOnce(),
    registered: () => done,
    stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      return running;
    },
  };
}
