import type { OutageLog } from "../lib/outage-log.js";
import { randomUUID } from "node:crypto";
import express, { type ErrorRequestHandler, type NextFunction, type Request, type Response } from "express";
import type { GatewayContext } from "../context.js";
import { NoVetAvailableError, StorageUnavailableError } from "../domain/errors.js";
import { isStorageUnavailable } from "../transport/storage-unavailable.js";
import { AppError } from "../lib/app-error.js";
import { fail } from "../protocol/envelope.js";
import type { Logger } from "../lib/logger.js";
import { createAppRateLimiter, createUnauthRateLimiter } from "./rate-limit.js";
import { apiHeaders, corsHeaders, crossOriginResource } from "./security.js";
import { createAdminRouter, type StatsSource } from "./routes/admin.js";
import type { VetSessions } from "./routes/admin-vets.js";
import { createOpsRouter } from "./routes/ops.js";
import { createReferenceRouter } from "./reference/router.js";
import { createVetAuthRouter } from "./routes/vet-auth.js";
import { createVetConsoleRouter, type VetQueueSource } from "./routes/vet-console.js";
import { createVetPetRouter, type OfferedPetSource } from "./routes/vet-pets.js";
import { createPagesRouter } from "./pages.js";
import { createDemoRouter } from "./routes/demo.js";
import { createV2Router, mediaUrlHandler } from "./routes/v2/index.js";
import type { UserSessions } from "./routes/v2/users.js";
import type { AppRecord } from "../repositories/apps.js";
import type { AuthCheck } from "../auth/app-auth.js";

/** Per-request values set by middleware. */
export interface RequestLocals {
  requestId: string;
  log: Logger;
  /** The app named in `/api/v2/{name}` (after it resolved). */
  app?: AppRecord;
  /** True once the request proved it is `app` (REST limits count the right caller by it). */
  authenticated?: boolean;
  /** The credentials' verdict, made on the way in. */
  authCheck?: AuthCheck;
}

/** Typed access to `res.locals`. */
export const locals = (res: Response) => res.locals as RequestLocals;

/** Extra routers mounted under `/api/v2/{name}` after authentication (e.g. the consultation routes). */
export type AuthenticatedRouter = express.Router;

/**
 * The Express application: ops endpoints, admin and vet-auth APIs, and the partner v2 API
 * with per-address limit → app resolution → Basic auth → per-app limit → body parsing → routes.
 */
export function createHttpApp(
  ctx: GatewayContext,
  extraV2Routers: AuthenticatedRouter[] = [],
  stats?: StatsSource & VetQueueSource & Partial<OfferedPetSource>,
  vetSessions?: VetSessions,
  userSessions?: UserSessions,
): express.Express {
  const app = express();
  app.disable("x-powered-by");
  app.set("trust proxy", ctx.config.trustProxy);
  app.set("etag", false);

  // Partner credentials are checked first, against the app's stored verifier (one HMAC, no
  // scrypt), so a partner is never refused for other clients' failures, also when all share
  // one address (PROTOCOL §7). What fails from an address this node already refused in this
  // window is refused here: before the request id, metrics and routing, so a flood of wrong
  // secrets costs each request its headers and a short answer.
  const unauthLimiter = createUnauthRateLimiter(ctx);
  let forwardedWarned = ctx.config.trustProxy > 0;
  app.use(apiHeaders(), corsHeaders(ctx.config.corsOrigins));
  app.use(async (req, res, next) => {
    if (!forwardedWarned && req.headers["x-forwarded-for"] !== undefined) {
      forwardedWarned = true;
      ctx.logger.warn(
        "X-Forwarded-For arrived while TRUST_PROXY=0: every client behind that proxy shares one address for the per-address limits; set TRUST_PROXY to the number of proxies",
      );
    }
    const m = /^\/api\/v2\/([^/]+)\/(.*)$/.exec(req.path);
    if (!m || m[2] === "media-url") return next();
    let appName: string;
    try {
      appName = decodeURIComponent(m[1]);
    } catch {
      return next(); // malformed: routing answers it as before
    }
    const verdict = await ctx.appAuth.check(appName, req.get("authorization"));
    locals(res).authCheck = verdict;
    if (verdict.result === "ok") {
      res.locals.app = verdict.app;
      res.locals.authenticated = true;
      return next();
    }
    if (!unauthLimiter.refuseKnown(req, res)) next();
  });

  const debug = ctx.logger.isLevelEnabled("debug");
  app.use((req, res, next) => {
    const incoming = req.get("x-request-id");
    const requestId = incoming && /^[\w.-]{1,64}$/.test(incoming) ? incoming : randomUUID();
    res.setHeader("x-request-id", requestId);
    res.locals.requestId = requestId;
    // Built on first use: most requests never log, and a child logger per request costs.
    let log: Logger | undefined;
    Object.defineProperty(res.locals, "log", { get: () => (log ??= ctx.logger.child({ requestId })) });
    const started = process.hrtime.bigint();
    res.on("finish", () => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      // Route patterns, not raw paths, keep the label set bounded.
      const routePath = (req.route as { path?: string } | undefined)?.path;
      const route = routePath ? `${req.baseUrl.replace(/\/api\/v2\/[^/]+/, "/api/v2/:name")}${routePath}` : "unmatched";
      ctx.metrics.httpDuration.observe({ method: req.method, route, status: String(res.statusCode) }, seconds);
      if (res.statusCode >= 500)
        locals(res).log.error({ method: req.method, url: req.originalUrl, status: res.statusCode }, "request failed");
      else if (debug)
        locals(res).log.debug(
          { method: req.method, url: req.originalUrl, status: res.statusCode, ms: seconds * 1000 },
          "request",
        );
    });
    next();
  });

  // Security headers and CORS on every answer, errors included (PROTOCOL §7), set above;
  // see security.ts for the page variant of the headers.
  app.use(createOpsRouter(ctx));
  app.use(createReferenceRouter());
  // Pet images are meant to be shown by partner pages on other origins.
  app.use(
    "/media",
    crossOriginResource,
    express.static(ctx.mediaDir, { index: false, dotfiles: "deny", fallthrough: true, maxAge: "1h" }),
  );

  const json = express.json({ limit: "1mb" });
  const form = express.urlencoded({ extended: true, limit: "1mb" });
  app.use("/admin/v1", createAdminRouter(ctx, stats, vetSessions));
  app.use("/vet/v1", json, createVetAuthRouter(ctx));
  app.use("/vet/v1", createVetConsoleRouter(ctx, stats));
  app.use("/vet/v1", createVetPetRouter(ctx, stats));
  app.use(createPagesRouter({ demo: ctx.config.demo, twilioLive: ctx.config.twilio.mode === "live" }));
  // Demo mode only; otherwise /demo/v1/* falls through to the 404 envelope.
  if (ctx.config.demo) app.use("/demo/v1", json, createDemoRouter(ctx));

  // Order matters (PROTOCOL §7): the free cached-credentials path first; everything else is
  // counted per client address before any app lookup or scrypt; the per-app budget is spent
  // only once the request proved it is the app; bodies are parsed only after that.
  const v2 = express.Router({ mergeParams: true });
  const appLimiter = createAppRateLimiter(ctx);
  const resolveApp = async (req: Request<{ name: string }>, res: Response, next: NextFunction) => {
    const found = await ctx.appAuth.findByName(req.params.name);
    if (!found) throw new AppError(404, "App Not Found");
    res.locals.app = found;
    next();
  };
  // No credentials: always counted per client address.
  v2.get("/media-url", unauthLimiter, resolveApp, mediaUrlHandler(ctx));
  // Not authenticated on the way in: counted per client address before anything costly.
  v2.use((_req, res, next) => (locals(res).authenticated ? next() : unauthLimiter(_req, res, next)));
  v2.use(async (req: Request<{ name: string }>, res, next) => {
    if (locals(res).authenticated) return next();
    // Counted per address above: now a name this node does not hold yet may be looked up.
    let verdict = locals(res).authCheck;
    if (verdict === undefined || verdict.result === "unknown_app")
      verdict = await ctx.appAuth.resolve(req.params.name, req.get("authorization"));
    if (verdict.result === "unknown_app") throw new AppError(404, "App Not Found");
    res.locals.app = verdict.app;
    // Only an app without a current verifier needs scrypt (once; capped per node).
    const ok =
      verdict.result === "ok" ||
      (verdict.result === "needs_scrypt" && (await ctx.appAuth.verifySlow(verdict.app, req.get("authorization"))));
    if (!ok) throw new AppError(401, "Unauthenticated.");
    res.locals.authenticated = true;
    next();
  });
  v2.use(appLimiter);
  // GET too: the reference's `refresh` is a GET that may carry a JSON body.
  v2.use(json, form);
  v2.use(createV2Router(ctx, userSessions));
  for (const r of extraV2Routers) v2.use(r);
  app.use("/api/v2/:name", v2);

  app.use((_req, res) => {
    res.status(404).json(fail(404, "Not Found"));
  });
  app.use(errorHandler(ctx.outages));
  return app;
}

/** Maps every error onto the envelope; unexpected ones become a bare 500 and are logged. */
const errorHandler =
  (outages: OutageLog): ErrorRequestHandler =>
  (err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    if (res.headersSent) return;
    if (err instanceof NoVetAvailableError) {
      res.setHeader("Retry-After", String(err.retryAfterS));
      res.status(503).json(fail(503, err.message));
      return;
    }
    if (err instanceof AppError) {
      for (const [k, v] of Object.entries(err.headers)) res.setHeader(k, v);
      res.status(err.status).json(fail(err.status, err.messages));
      return;
    }
    const e = err as { type?: string; status?: number; code?: string; name?: string };
    if (e.type === "entity.parse.failed") {
      res.status(400).json(fail(400, "Malformed JSON body."));
      return;
    }
    if (e.type === "entity.too.large" || e.code === "LIMIT_FILE_SIZE" || e.status === 413) {
      res.status(413).json(fail(413, "Payload Too Large"));
      return;
    }
    if (e.name === "MulterError") {
      res.status(422).json(fail(422, "The upload is invalid."));
      return;
    }
    if (typeof e.status === "number" && e.status >= 400 && e.status < 500) {
      res.status(e.status).json(fail(e.status, e.status === 415 ? "Unsupported Media Type" : "Bad Request"));
      return;
    }
    const log = (res.locals as Partial<RequestLocals>).log;
    if (isStorageUnavailable(err)) {
      outages.warn("request refused: database or Redis unavailable", err);
      res.setHeader("retry-after", String(err instanceof StorageUnavailableError ? err.retryAfterS : 5));
      res.status(503).json(fail(503, "Service Unavailable"));
      return;
    }
    log?.error({ err }, "unexpected error");
    res.status(500).json(fail(500, "Server Error"));
  };
