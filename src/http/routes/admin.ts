import { createHash, timingSafeEqual } from "node:crypto";
import { appJson, statsHistoryJson, vetJson } from "../presenters/admin.js";
import { Router, type RequestHandler, type Response } from "express";
import { z } from "zod";
import type { GatewayContext } from "../../context.js";
import { AppError, ok } from "../../lib/envelope.js";
import type { Logger } from "../../lib/logger.js";
import type { StatsHistoryData } from "../../ops/stats-history.js";
import { validate } from "../validation.js";
import { createAdminConsultationRouter } from "./admin-consultations.js";
import { createAdminVetRouter, vetAttributeFields, type VetSessions } from "./admin-vets.js";

/** Live counts for `GET /admin/v1/stats`; the routing layer provides it. */
export interface StatsSource {
  stats(): Promise<GatewayStats>;
  /** `GET /admin/v1/stats/history` (ops/stats-history.ts); absent → an empty history. */
  history?(): Promise<StatsHistoryData>;
}

/** The `data` of `GET /admin/v1/stats`. */
export interface GatewayStats {
  queue_length: number;
  /** Vets by status: `available`, `away`, `busy`, `offline`, and any other the source reports. */
  vets: Record<string, number>;
  open_consultations: number;
}

/** App names are the `{name}` path segment of `/api/v2/{name}`: lowercase, URL-safe. */
export const APP_NAME_RE = /^[a-z0-9][a-z0-9_-]{1,62}$/;

// validate() words these issues ("The name format is invalid.", "… must be a valid url.").
const httpUrl = () => z.url({ protocol: /^https?$/ }).max(2048).nullish();

/** Body of `POST /admin/v1/apps` (also the CLI's `create-app`). */
export const createAppSchema = z.object({
  name: z.string().regex(APP_NAME_RE),
  secret: z.string().min(16).max(256),
  media_url: httpUrl(),
});

/** Body of `POST /admin/v1/vets` (also the CLI's `create-vet`). */
export const createVetSchema = z.object({
  email: z.email().max(254),
  password: z.string().min(8).max(256),
  first_name: z.string().trim().min(1).max(100),
  last_name: z.string().trim().min(1).max(100),
  profile_image: httpUrl(),
  ...vetAttributeFields,
});

const requestLog = (res: Response) => (res.locals as { log?: Logger }).log;

const ZERO_VETS = { available: 0, away: 0, busy: 0, offline: 0 } as const;

// Hashing both sides first gives equal-length buffers, so the comparison is constant-time
// whatever the presented token's length.
const digest = (s: string) => createHash("sha256").update(s, "utf8").digest();

/**
 * `Authorization: Bearer $ADMIN_TOKEN`. With `ADMIN_TOKEN` unset the admin API is closed:
 * every call is 401 (there is no default token).
 */
function requireAdmin(adminToken: string | undefined): RequestHandler {
  const expected = adminToken ? digest(adminToken) : null;
  return (req, _res, next) => {
    const m = /^Bearer[ \t]+(\S{1,1024})[ \t]*$/i.exec(req.get("authorization") ?? "");
    if (!expected || !m?.[1] || !timingSafeEqual(digest(m[1]), expected)) throw new AppError(401, "Unauthenticated.");
    next();
  };
}

/**
 * `/admin/v1`: create apps and vets, read live stats; all behind
 * `Authorization: Bearer $ADMIN_TOKEN`. Without a {@link StatsSource} the stats are zeros.
 */
export function createAdminRouter(ctx: GatewayContext, stats?: StatsSource, sessions?: VetSessions): Router {
  const r = Router();
  r.use(requireAdmin(ctx.config.adminToken));

  r.post("/apps", async (req, res) => {
    const body = validate(createAppSchema, req.body);
    const app = await ctx.repos.apps.create({ name: body.name, secret: body.secret, mediaUrl: body.media_url ?? null });
    // A request for this name just before may have cached "unknown" on this node.
    ctx.appAuth.forget(app.name);
    requestLog(res)?.info({ appId: app.id, name: app.name }, "app created");
    res.status(201).json(ok(appJson(app), "App created.", 201));
  });

  r.post("/vets", async (req, res) => {
    const body = validate(createVetSchema, req.body);
    const vet = await ctx.repos.vets.create({
      email: body.email,
      password: body.password,
      firstName: body.first_name,
      lastName: body.last_name,
      profileImage: body.profile_image ?? null,
      species: body.species,
      languages: body.languages,
      maxChats: body.max_chats,
    });
    requestLog(res)?.info({ vetId: vet.id }, "vet created");
    res.status(201).json(ok(vetJson(vet, ctx.config.twilio.vetAppId), "Vet created.", 201));
  });

  r.get("/stats", async (_req, res) => {
    const s = stats ? await stats.stats() : { queue_length: 0, vets: {}, open_consultations: 0 };
    const data: GatewayStats = { ...s, vets: { ...ZERO_VETS, ...s.vets } };
    res.json(ok(data));
  });

  r.get("/stats/history", async (_req, res) => {
    const data = stats?.history ? await stats.history() : { step_s: 10, window_s: 3600, samples: [] };
    res.json(ok(statsHistoryJson(data)));
  });

  r.use(createAdminConsultationRouter(ctx));
  r.use(createAdminVetRouter(ctx, sessions));

  return r;
}
