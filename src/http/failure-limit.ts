import { MemoryStore, type Options, type Store } from "express-rate-limit";
import { RedisStore, type RedisReply } from "rate-limit-redis";
import type { GatewayContext } from "../context.js";

/**
 * Counts failures (wrong admin tokens, wrong vet passwords) per key in a one-minute window,
 * in Redis when configured (shared by every node) or in memory. Only failures are counted,
 * and a caller that succeeds is never refused: the check comes after the cheap verdict, or,
 * where the verdict costs scrypt, the caller asks {@link isOver} first.
 */
export interface FailureLimit {
  /** Counts one failure of `key`; true when it went over the limit (answer 429). */
  fail(key: string): Promise<boolean>;
  /** True when `key` is over the limit in this window, without counting. */
  isOver(key: string): Promise<boolean>;
}

const WINDOW_MS = 60_000;

/** A {@link FailureLimit} of `limit` failures a minute, its Redis keys under `{prefix}{name}:`. */
export function createFailureLimit(ctx: GatewayContext, name: string, limit: number): FailureLimit {
  let store: Store;
  if (ctx.redisCommands) {
    const redis = ctx.redisCommands;
    store = new RedisStore({
      prefix: `${ctx.config.redisKeyPrefix}${name}:`,
      sendCommand: (...args: string[]) => redis.sendCommand<RedisReply>(args),
    });
  } else store = new MemoryStore();
  const ready = Promise.resolve(store.init?.({ windowMs: WINDOW_MS } as Options));
  // A store that cannot answer (Redis away) must not lock anyone out: the limit lets through.
  const guarded = async <T>(run: () => Promise<T>, fallback: T): Promise<T> => {
    try {
      await ready;
      return await run();
    } catch (err) {
      ctx.logger.warn({ err, limit: name }, "failure limit unavailable: letting the request through");
      return fallback;
    }
  };
  return {
    fail: (key) => guarded(async () => (await store.increment(key)).totalHits > limit, false),
    isOver: (key) => guarded(async () => ((await store.get?.(key))?.totalHits ?? 0) >= limit, false),
  };
}
