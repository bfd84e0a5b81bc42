import { rateLimit, type RateLimitRequestHandler, type Store } from "express-rate-limit";
import { RedisStore, type RedisReply } from "rate-limit-redis";
import type { Response } from "express";
import type { GatewayContext } from "../context.js";
import { fail } from "../lib/envelope.js";

/**
 * Per-app request limit for `/api/v2/{name}` (default 200 a minute). With Redis the count
 * is shared by every node. Headers: `x-ratelimit-limit`, `x-ratelimit-remaining`.
 */
export function createAppRateLimiter(ctx: GatewayContext): RateLimitRequestHandler {
  let store: Store | undefined;
  if (ctx.redisCommands) {
    const redis = ctx.redisCommands;
    store = new RedisStore({
      prefix: `${ctx.config.redisKeyPrefix}rl:`,
      sendCommand: (...args: string[]) => redis.sendCommand<RedisReply>(args),
    });
  }
  return rateLimit({
    windowMs: 60_000,
    limit: ctx.config.rateLimitPerMin,
    legacyHeaders: true,
    standardHeaders: false,
    // Keyed by the app the path names; unknown names share one bucket per client address.
    keyGenerator: (req, res: Response) => {
      const app = (res.locals as { app?: { id: number } }).app;
      return app ? `app:${app.id}` : `anon:${req.ip ?? "unknown"}`;
    },
    // A Redis outage must not take the REST API down with it.
    passOnStoreError: true,
    validate: { keyGeneratorIpFallback: false },
    ...(store ? { store } : {}),
    handler: (_req, res) => {
      res.status(429).json(fail(429, "Too Many Requests"));
    },
  });
}
