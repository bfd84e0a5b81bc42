import {
  ipKeyGenerator,
  rateLimit,
  type Options,
  type RateLimitInfo,
  type RateLimitRequestHandler,
  type Store,
} from "express-rate-limit";
import { RedisStore, type RedisReply } from "rate-limit-redis";
import type { Request, RequestHandler, Response } from "express";
import { TtlCache } from "../auth/app-auth.js";
import type { GatewayContext } from "../context.js";
import { systemClock } from "../lib/clock.js";
import { fail } from "../protocol/envelope.js";

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

const tooMany = (res: Response) => {
  res.setHeader("retry-after", "60");
  res.status(429).json(fail(429, "Too Many Requests"));
};

const common: Partial<Options> = {
  windowMs: 60_000,
  legacyHeaders: true,
  standardHeaders: false,
  // A Redis outage must not take the REST API down with it.
  passOnStoreError: true,
  handler: (_req, res) => tooMany(res),
};

/** Most client addresses a node remembers as refused (beyond it, the oldest are forgotten). */
const REFUSED_ADDRESSES = 10_000;

/**
 * Refusals of one address per window a node answers at once before the tarpit holds the
 * next ones: a client that overshoots a little still hears promptly; one that keeps sending
 * is slowed down.
 */
export const FAST_REFUSALS = 10;

/** An address this node refused: until when, and how many times in this window. */
interface Refused {
  resetAt: number;
  refusals: number;
}

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
 * IPv6 addresses are grouped by /56. An address this node keeps refusing gets its answers
 * through `ctx.tarpit` after its first {@link FAST_REFUSALS} refusals in the window.
 */
export function createUnauthRateLimiter(ctx: GatewayContext): RequestHandler & {
  /** Answers 429 (true) when this node already refused the request's address in this window. */
  refuseKnown(req: Request, res: Response): boolean;
} {
  const store = storeFor(ctx, "rl-unauth");
  const limit = ctx.config.rateLimitUnauthPerMin;
  const keyOf = (req: Request) => `ip:${ipKeyGenerator(req.ip ?? "unknown")}`;
  // Addresses this node refused, until their window resets: a repeat is refused here without
  // a store round trip, so a flood of wrong secrets costs this node an answer and nothing more.
  const refused = new TtlCache<string, Refused>(REFUSED_ADDRESSES, systemClock);
  const limiter = rateLimit({
    ...common,
    limit,
    skipSuccessfulRequests: true,
    requestWasSuccessful: (_req, res) => limiterLocals(res).authenticated === true,
    keyGenerator: (req) => keyOf(req),
    // A forwarded header without trusted hops is expected from attackers: ignore it, quietly.
    validate: { xForwardedForHeader: false },
    handler: (req, res) => {
      const resetAt = (req as Request & { rateLimit?: RateLimitInfo }).rateLimit?.resetTime?.getTime();
      if (resetAt !== undefined && resetAt > Date.now())
        refused.set(keyOf(req), { resetAt, refusals: 1 }, resetAt - Date.now());
      tooMany(res);
    },
    ...(store ? { store } : {}),
  });
  const refuseKnown = (req: Request, res: Response): boolean => {
    const known = refused.get(keyOf(req));
    if (known === undefined) return false;
    const answer = () => {
      // The headers the limiter itself sends with a refusal.
      res.setHeader("X-RateLimit-Limit", String(limit));
      res.setHeader("X-RateLimit-Remaining", "0");
      res.setHeader("Date", new Date().toUTCString());
      res.setHeader("X-RateLimit-Reset", String(Math.ceil(known.resetAt / 1000)));
      tooMany(res);
    };
    known.refusals++;
    if (known.refusals <= FAST_REFUSALS) answer();
    else ctx.tarpit.hold(res, answer);
    return true;
  };
  const handler: RequestHandler = (req, res, next) => {
    if (!refuseKnown(req, res)) return limiter(req, res, next);
  };
  return Object.assign(handler, { refuseKnown });
}
