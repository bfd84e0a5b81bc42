/**
 * Browser-facing protections of REST (PROTOCOL §7): CORS and the security headers of every
 * answer; the origin rule both transports share is `transport/origin.ts`. Pages (e.g.
 * /console/, /demo/, /ops/, /docs) mount {@link pageHeaders} on their own routes: it replaces
 * the API's locked-down CSP with one that lets same-origin scripts, styles, images (and
 * `blob:`/`data:` images) load.
 */
import cors from "cors";
import type { RequestHandler } from "express";
import helmet from "helmet";

/** CORS for REST: answers preflights and adds headers only for `CORS_ORIGINS`; unset → none (same origin only). */
export function corsHeaders(allowed: readonly string[]): RequestHandler {
  return cors({
    origin: allowed.length > 0 ? [...allowed] : false,
    credentials: false,
    exposedHeaders: ["x-request-id", "x-ratelimit-limit", "x-ratelimit-remaining", "retry-after"],
    maxAge: 600,
  });
}

/**
 * helmet for JSON answers: nothing may run, frame or embed them. `/media` images need
 * `crossOriginResourcePolicy: cross-origin` so partner pages can show them (set there).
 */
export function apiHeaders(): RequestHandler {
  return helmet({
    contentSecurityPolicy: { useDefaults: false, directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] } },
    crossOriginResourcePolicy: { policy: "same-origin" },
  });
}

/**
 * helmet for the HTML pages: same-origin scripts, styles, fonts, sockets; images also `blob:`
 * and `data:`. With `twilioLive` the console may also reach Twilio's Conversations and Video
 * services (HTTPS and WebSocket) and play their media streams.
 */
export function pageHeaders(opts: { twilioLive?: boolean } = {}): RequestHandler {
  const twilio = opts.twilioLive ? ["https://*.twilio.com", "wss://*.twilio.com"] : [];
  return helmet({
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'", "blob:", "data:"],
        fontSrc: ["'self'"],
        connectSrc: ["'self'", ...twilio],
        mediaSrc: ["'self'", "blob:"],
        objectSrc: ["'none'"],
        baseUri: ["'self'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
      },
    },
  });
}

/** Lets other origins embed what follows (pet images under `/media`). */
export const crossOriginResource: RequestHandler = (_req, res, next) => {
  res.setHeader("cross-origin-resource-policy", "cross-origin");
  next();
};
