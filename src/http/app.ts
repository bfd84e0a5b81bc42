import { randomUUID } from "node:crypto";
import express, { type ErrorRequestHandler, type NextFunction, type Request, type Response } from "express";
import type { GatewayContext } from "../context.js";
import { AppError, fail } from "../lib/envelope.js";
import type { Logger } from "../lib/logger.js";
import { createAppRateLimiter } from "./rate-limit.js";
import { createAdminRouter, type StatsSource } from "./routes/admin.js";
import { createOpsRouter } from "./routes/ops.js";
import { createVetAuthRouter } from "./routes/vet-auth.js";
import { createVetConsoleRouter } from "./routes/vet-console.js";
import { createPagesRouter } from "./pages.js";
import { createDemoRouter } from "../demo/routes.js";
import { createV2Router, mediaUrlHandler } from "./routes/v2/index.js";
import type { AppRecord } from "../repositories/apps.js";

/** Per-request values set by middleware. */
export interface RequestLocals {
  requestId: string;
  log: Logger;
  /** The app named in `/api/v2/{name}` (after it resolved). */
  app?: AppRecord;
}

/** Typed access to `res.locals`. */
export const locals = (res: Response) => res.locals as RequestLocals;

/** Extra routers mounted under `/api/v2/{name}` after authentication (e.g. the consultation routes). */
export type AuthenticatedRouter = express.Router;

/**
 * The Express application: ops endpoints, admin and vet-auth APIs, and the partner v2 API
 * with app resolution → rate limit → body parsing → Basic auth → routes.
 */
export function createHttpApp(
  ctx: GatewayContext,
  extraV2Routers: AuthenticatedRouter[] = [],
  stats?: StatsSource,
): express.Express {
  const app = express();
  app.disable("x-powered-by");
  app.set("trust proxy", ctx.config.trustProxy);
  app.set("etag", false);

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
      if (res.statusCode >= 500) locals(res).log.error({ method: req.method, url: req.originalUrl, status: res.statusCode }, "request failed");
      else if (debug) locals(res).log.debug({ method: req.method, url: req.originalUrl, status: res.statusCode, ms: seconds * 1000 }, "request");
    });
    next();
  });

  app.use(createOpsRouter(ctx));
  app.use("/media", express.static(ctx.mediaDir, { index: false, dotfiles: "deny", fallthrough: true, maxAge: "1h" }));

  const json = express.json({ limit: "1mb" });
  const form = express.urlencoded({ extended: true, limit: "1mb" });
  app.use("/admin/v1", json, createAdminRouter(ctx, stats));
  app.use("/vet/v1", json, createVetAuthRouter(ctx));
  app.use("/vet/v1", createVetConsoleRouter(ctx, stats));
  app.use(createPagesRouter({ demo: ctx.config.demo }));
  // Demo mode only; otherwise /demo/v1/* falls through to the 404 envelope.
  if (ctx.config.demo) app.use("/demo/v1", json, createDemoRouter(ctx));

  const v2 = express.Router({ mergeParams: true });
  const limiter = createAppRateLimiter(ctx);
  v2.use(async (req: Request<{ name: string }>, res, next) => {
    const found = await ctx.appAuth.findByName(req.params.name);
    if (found) res.locals.app = found;
    next();
  });
  v2.use(limiter);
  v2.use((_req, res, next) => {
    if (!locals(res).app) throw new AppError(404, "App Not Found");
    next();
  });
  v2.get("/media-url", mediaUrlHandler(ctx));
  // GET too: the reference's `refresh` is a GET that may carry a JSON body.
  v2.use(json, form);
  v2.use(async (req, res, next) => {
    const ok = await ctx.appAuth.verify(locals(res).app!, req.get("authorization"));
    if (!ok) throw new AppError(401, "Unauthenticated.");
    next();
  });
  v2.use(createV2Router(ctx));
  for (const r of extraV2Routers) v2.use(r);
  app.use("/api/v2/:name", v2);

  app.use((_req, res) => {
    res.status(404).json(fail(404, "Not Found"));
  });
  app.use(errorHandler);
  return app;
}

/** Maps every error onto the envelope; unexpected ones become a bare 500 and are logged. */
const errorHandler: ErrorRequestHandler = (err: unknown, _req: Request, res: Response, _next: NextFunction) => {
  if (res.headersSent) return;
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
  log?.error({ err }, "unexpected error");
  res.status(500).json(fail(500, "Server Error"));
};
