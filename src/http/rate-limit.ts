import { ipKeyGenerator, rateLimit, type Options, type RateLimitRequestHandler, type Store } from "express-rate-limit";
import { RedisStore, type RedisReply } from "rate-limit-redis";
import type { Response } from "express";
import type { GatewayContext } from "../context.js";
import { fail } from "../lib/envelope.js";

/** What the v2 pipeline records on `res.locals` for the limiters. */
interface LimiterLocals {
  app?: { id: number };
  /** Set once the request proved it is the app (cached verifier or scrypt). */
  authenticated?: boolean;
}
const limiterLocals = (res: Response) => res.locals as LimiterLocals;

/** A Redis store under `{prefix}{name}:` when Redis is configured (shared by every node), else memory. */
function storeFor(ctx: GatewayContext, name: string): Store | undefined {
  if (!ctx.redisCommands) return undefined;
  const redis = ctx.redisCommands;
  return new RedisStore({
    prefix: `${ctx.config.redisKeyPrefix}${name}:`,
    sendCommand: (...args: string[]) => redis.sendCommand<RedisReply>(args),
  });
}

const common: Partial<Options> = {
  windowMs: 60_000,
  legacyHeaders: true,
  standardHeaders: false,
  // A Redis outage must not take the REST API down with it.
  passOnStoreError: true,
  handler: (_req, res) => {
    res.setHeader("retry-after", "60");
    res.status(429).json(fail(429, "Too Many Requests"));
  },
};

/**
 * Per-app request limit for `/api/v2/{name}` (default 200 a minute). Runs only after the
 * request authenticated as that app, so nobody else can spend an app's budget. With Redis
 * the count is shared by every node. Headers: `x-ratelimit-limit`, `x-ratelimit-remaining`.
 */
export function createAppRateLimiter(ctx: GatewayContext): RateLimitRequestHandler {
  const store = storeFor(ctx, "rl");
  return rateLimit({
    ...common,
    limit: ctx.config.rateLimitPerMin,
    keyGenerator: (_req, res: Response) => {
      const app = limiterLocals(res).app;
      // Unreachable behind authentication; a mis-mounted limiter must still not share a bucket.
      if (!app) throw new Error("app rate limiter ran before authentication");
      return `app:${app.id}`;
    },
    validate: { keyGeneratorIpFallback: false },
    ...(store ? { store } : {}),
  });
}

/**
 * Per client address limit (`RATE_LIMIT_UNAUTH_PER_MIN`, default 60) for everything that
 * is not yet authenticated: it runs before the app name is looked up and before scrypt.
 * Requests that end authenticated are refunded on finish, so only failed authentication,
 * unknown app names and `media-url` stay counted. The address honours `TRUST_PROXY` hops;
 * IPv6 addresses are grouped by /56.
 */
export function createUnauthRateLimiter(ctx: GatewayContext): RateLimitRequestHandler {
  const store = storeFor(ctx, "rl-unauth");
  return rateLimit({
    ...common,
    limit: ctx.config.rateLimitUnauthPerMin,
    skipSuccessfulRequests: true,
    requestWasSuccessful: (_req, res) => limiterLocals(res).authenticated === true,
    keyGenerator: (req) => `ip:${ipKeyGenerator(req.ip ?? "unknown")}`,
    // A forwarded header without trusted hops is expected from attackers: ignore it, quietly.
    validate: { xForwardedForHeader: false },
    ...(store ? { store } : {}),
  });
}
