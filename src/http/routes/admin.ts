import { appJson, statsHistoryJson, vetJson } from "../presenters/admin.js";
import express, { Router, type Response } from "express";
import { requireAdmin } from "../admin-auth.js";
import type { GatewayContext } from "../../context.js";
import { notFound } from "../../lib/app-error.js";
import { ok } from "../../protocol/envelope.js";
import { generateAppSecret } from "../../auth/app-secret-verifier.js";
import { idParam } from "../params.js";
import type { Logger } from "../../lib/logger.js";
import type { StatsHistoryData } from "../../ops/stats-history.js";
import { validate } from "../../transport/validation.js";
import { createAdminConsultationRouter } from "./admin-consultations.js";
import { createAdminSummaryRouter } from "./admin-summary.js";
import { createAdminWebhookRouter, refusingBadUrls, settingsJson } from "./admin-webhooks.js";
import { createAdminVetRouter, type VetSessions } from "./admin-vets.js";
import { createAppSchema, createVetSchema } from "../schemas/admin.js";

/** Live counts for `GET /admin/v1/stats`; the routing layer provides it. */
export interface StatsSource {
  stats(): Promise<GatewayStats>;
  /** `GET /admin/v1/stats/history` (ops/stats-history.ts); absent → an empty history. */
  history?(): Promise<StatsHistoryData>;
}

/** The `data` of `GET /admin/v1/stats`. */
export interface GatewayStats {
  queue_length: number;
  /** Of `queue_length`, the requests for advice only (PROTOCOL §4 care). */
  waiting_advice: number;
  /** Vets by status: `available`, `away`, `busy`, `offline`, and any other the source reports. */
  vets: Record<string, number>;
  open_consultations: number;
}

const requestLog = (res: Response) => (res.locals as { log?: Logger }).log;

const ZERO_VETS = { available: 0, away: 0, busy: 0, offline: 0 } as const;

/**
 * `/admin/v1`: create apps and vets, read live stats; all behind
 * `Authorization: Bearer $ADMIN_TOKEN`. Without a {@link StatsSource} the stats are zeros.
 */
export function createAdminRouter(ctx: GatewayContext, stats?: StatsSource, sessions?: VetSessions): Router {
  const r = Router();
  r.use(requireAdmin(ctx, [ctx.config.adminToken]), express.json({ limit: "1mb" }));

  r.post("/apps", async (req, res) => {
    const body = validate(createAppSchema, req.body);
    const url = body.webhook_url ?? null;
    if (url !== null) await refusingBadUrls(() => ctx.webhooks.checkUrl(url));
    const webhook = url !== null ? ctx.webhooks.newSecret() : null;
    const app = await ctx.repos.apps.create({
      name: body.name,
      secret: body.secret,
      verifier: ctx.appAuth.verifierOf(body.name, body.secret),
      mediaUrl: body.media_url ?? null,
      webhookUrl: url,
      webhookSecretEnc: webhook?.sealed ?? null,
    });
    // This node's copy of the apps table predates the app.
    ctx.appAuth.forget();
    requestLog(res)?.info({ appId: app.id, name: app.name, webhook: url !== null }, "app created");
    const shown = { app: { ...app, webhookUrl: url }, ...(webhook ? { secret: webhook.secret } : {}) };
    res
      .status(201)
      .json(
        ok(settingsJson(shown), webhook ? "App created. The webhook secret is shown only once." : "App created.", 201),
      );
  });

  // A new secret, generated and shown once; the old one stops working at once on this node
  // and within 5 s on the others (their copy of the apps table).
  r.post("/apps/:id/secret", async (req, res) => {
    const id = idParam(req.params.id);
    const found = id === null ? null : await ctx.repos.apps.findById(id);
    if (!found) throw notFound("App not found");
    const secret = generateAppSecret();
    const app = await ctx.repos.apps.setSecret(found.id, {
      secret,
      verifier: ctx.appAuth.verifierOf(found.name, secret),
    });
    if (!app) throw notFound("App not found");
    ctx.appAuth.forget();
    requestLog(res)?.info({ appId: app.id }, "app secret rotated");
    res.json(ok({ ...appJson(app), secret }, "App secret rotated. It is shown only once."));
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
      licenses: body.licenses,
    });
    requestLog(res)?.info({ vetId: vet.id }, "vet created");
    res.status(201).json(ok(vetJson(vet, ctx.config.twilio.vetAppId), "Vet created.", 201));
  });

  r.get("/stats", async (_req, res) => {
    const s = stats ? await stats.stats() : { queue_length: 0, waiting_advice: 0, vets: {}, open_consultations: 0 };
    const data: GatewayStats = { ...s, vets: { ...ZERO_VETS, ...s.vets } };
    res.json(ok(data));
  });

  r.get("/stats/history", async (_req, res) => {
    const data = stats?.history ? await stats.history() : { step_s: 10, window_s: 3600, samples: [] };
    res.json(ok(statsHistoryJson(data)));
  });

  r.use(createAdminWebhookRouter(ctx));
  r.use(createAdminSummaryRouter(ctx));
  r.use(createAdminConsultationRouter(ctx));
  r.use(createAdminVetRouter(ctx, sessions));

  return r;
}
