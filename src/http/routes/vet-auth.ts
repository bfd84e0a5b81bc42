import { createHash } from "node:crypto";
import { Router, type RequestHandler } from "express";
import { rateLimit, type Store } from "express-rate-limit";
import { RedisStore, type RedisReply } from "rate-limit-redis";
import { z } from "zod";
import type { GatewayContext } from "../../context.js";
import { AppError } from "../../lib/app-error.js";
import { fail, ok } from "../../protocol/envelope.js";
import { validate } from "../../transport/validation.js";
import { createFailureLimit } from "../failure-limit.js";
import { vetJson } from "../presenters/admin.js";

/** Failed vet logins allowed per client address per minute (shared across nodes with Redis). */
export const LOGIN_ATTEMPTS_PER_MIN = 20;
/** Failed logins allowed per account (email) per minute, from any address (shared across nodes with Redis). */
export const LOGIN_ATTEMPTS_PER_ACCOUNT_PER_MIN = 10;

/** Body of `POST /vet/v1/login`. */
export const loginSchema = z.object({
  email: z.string().trim().min(1).max(254),
  password: z.string().min(1).max(256),
});

/**
 * Brute-force guard for `POST /vet/v1/login`: per client address, counting only failed
 * attempts, so a clinic of vets behind one NAT address can still log in all day.
 */
function loginLimiter(ctx: GatewayContext, limit: number): RequestHandler {
  let store: Store | undefined;
  if (ctx.redisCommands) {
    const redis = ctx.redisCommands;
    store = new RedisStore({
      prefix: `${ctx.config.redisKeyPrefix}rl-login:`,
      sendCommand: (...args: string[]) => redis.sendCommand<RedisReply>(args),
    });
  }
  return rateLimit({
    windowMs: 60_000,
    limit,
    skipSuccessfulRequests: true,
    standardHeaders: false,
    legacyHeaders: false,
    // The default key is the client address (IPv6 grouped by /56), honouring TRUST_PROXY.
    passOnStoreError: true,
    ...(store ? { store } : {}),
    handler: (_req, res) => {
      res.setHeader("retry-after", "60");
      res.status(429).json(fail(429, "Too Many Requests"));
    },
  });
}

/**
 * `POST /vet/v1/login` `{email, password}` → `{token, expires_at, vet}`: the token opens the
 * `/vet` socket namespace. Wrong credentials → 401 `Unauthenticated.` (the same answer for
 * an unknown email, a wrong password and a demo vet outside demo mode); right credentials of
 * a disabled vet → 403. Failures are limited per address and per account; scrypt runs under
 * the node's shared cap (PROTOCOL §7).
 */
export function createVetAuthRouter(
  ctx: GatewayContext,
  opts: { attemptsPerMin?: number; attemptsPerAccountPerMin?: number } = {},
): Router {
  const r = Router();
  const accounts = createFailureLimit(
    ctx,
    "rl-login-account",
    opts.attemptsPerAccountPerMin ?? LOGIN_ATTEMPTS_PER_ACCOUNT_PER_MIN,
  );
  const accountKey = (email: string) => `acct:${createHash("sha256").update(email.toLowerCase()).digest("base64url")}`;
  r.post("/login", loginLimiter(ctx, opts.attemptsPerMin ?? LOGIN_ATTEMPTS_PER_MIN), async (req, res) => {
    const body = validate(loginSchema, req.body);
    const account = accountKey(body.email);
    if (await accounts.isOver(account)) {
      res.setHeader("retry-after", "60");
      throw new AppError(429, "Too Many Requests");
    }
    const login = await ctx.vetLogin.login(body.email, body.password);
    if (login.result === "wrong") {
      await accounts.fail(account);
      throw new AppError(401, "Unauthenticated.");
    }
    // Only after the password matched, so the answer reveals nothing to a guesser.
    if (login.result === "disabled") throw new AppError(403, "This vet account is disabled.");
    const { token, expires_at } = await ctx.socketTokens.issueVetLogin(login.vet);
    res.json(ok({ token, expires_at, vet: vetJson(login.vet, ctx.config.twilio.vetAppId) }, "Login successful."));
  });
  return r;
}
