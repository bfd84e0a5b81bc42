import {
  ClientClosedError,
  ClientOfflineError,
  ConnectionTimeoutError,
  SocketClosedUnexpectedlyError,
  SocketTimeoutError,
} from "redis";
/** The raw command interface of a Redis connection: what the routing store and rate limits use. */
export interface RedisCommands {
  sendCommand<T = unknown>(args: ReadonlyArray<string>): Promise<T>;
}

/** Raised when Redis has not answered a command within the deadline. */
export class RedisTimeoutError extends Error {
  constructor(ms: number) {
    super(`Redis did not answer within ${ms} ms`);
    this.name = "RedisTimeoutError";
  }
}

/**
 * `client.sendCommand` with a deadline per command (none when `ms` is 0).
 *
 * Why not node-redis' own `commandOptions.timeout`: it arms `AbortSignal.timeout()` per
 * command, a timer that cannot be cleared and lives the full timeout. At a few thousand
 * commands a second those timers outlived every young-generation GC, were promoted, and
 * made major GCs pause the event loop for 25–60 ms. The client is therefore created with
 * that timeout off, and this timer is cleared as soon as the reply arrives, so it dies young.
 */
export function withCommandDeadline(client: RedisCommands, ms: number): RedisCommands {
  if (ms <= 0) return client;
  return {
    sendCommand<T>(args: ReadonlyArray<string>): Promise<T> {
      return new Promise<T>((resolve, reject) => {
        const timer = setTimeout(() => reject(new RedisTimeoutError(ms)), ms);
        client.sendCommand<T>(args).then(
          (reply) => {
            clearTimeout(timer);
            resolve(reply);
          },
          (err: unknown) => {
            clearTimeout(timer);
            reject(err instanceof Error ? err : new Error(String(err)));
          },
        );
      });
    },
  };
}

const REDIS_DOWN = [
  ClientClosedError,
  ClientOfflineError,
  SocketClosedUnexpectedlyError,
  ConnectionTimeoutError,
  SocketTimeoutError,
];
const REDIS_NETWORK = /ECONNREFUSED|ECONNRESET|EPIPE|ETIMEDOUT/;

/**
 * True when `err` says Redis is unreachable or too slow (not a bug in a command), so
 * transports answer 503 (retry later) instead of 500.
 */
export function isRedisUnavailable(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  if (err instanceof RedisTimeoutError || REDIS_DOWN.some((c) => err instanceof c)) return true;
  const code = (err as { code?: unknown }).code;
  return (typeof code === "string" && REDIS_NETWORK.test(code)) || REDIS_NETWORK.test(err.message);
}
