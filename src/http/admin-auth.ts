import { createHash, timingSafeEqual } from "node:crypto";
import type { RequestHandler } from "express";
import { ipKeyGenerator } from "express-rate-limit";
import type { GatewayContext } from "../context.js";
import { AppError } from "../lib/app-error.js";
import { createFailureLimit } from "./failure-limit.js";

// Hashing both sides first gives equal-length buffers, so the comparison is constant-time
// whatever the presented token's length.
const digest = (s: string) => createHash("sha256").update(s, "utf8").digest();

/** True when `authorization` is `Bearer {token}` for one of `tokens` (constant-time). */
export function bearerMatches(authorization: string | undefined, tokens: ReadonlyArray<string | undefined>): boolean {
  const m = /^Bearer[ \t]+(\S{1,1024})[ \t]*$/i.exec(authorization ?? "");
  if (!m?.[1]) return false;
  const presented = digest(m[1]);
  // Every token is compared, so the time taken does not tell which one matched.
  return tokens.reduce((found, t) => (t !== undefined && timingSafeEqual(presented, digest(t))) || found, false);
}

/**
 * `Authorization: Bearer $ADMIN_TOKEN`, checked before the body is parsed. With
 * `ADMIN_TOKEN` unset the admin API is closed: every call is 401 (there is no default
 * token). Failures are counted per client address (`RATE_LIMIT_UNAUTH_PER_MIN`); past the
 * limit they are answered 429. The right token is never refused.
 */
export function requireAdmin(
  ctx: GatewayContext,
  tokens: ReadonlyArray<string | undefined>,
  limitName = "rl-admin",
): RequestHandler {
  const failures = createFailureLimit(ctx, limitName, ctx.config.rateLimitUnauthPerMin);
  return async (req, res, next) => {
    if (bearerMatches(req.get("authorization"), tokens)) return next();
    if (await failures.fail(`ip:${ipKeyGenerator(req.ip ?? "unknown")}`)) {
      res.setHeader("retry-after", "60");
      throw new AppError(429, "Too Many Requests");
    }
    throw new AppError(401, "Unauthenticated.");
  };
}
