/**
 * Apps' webhook settings and delivery logs (PROTOCOL §9), behind `ADMIN_TOKEN` (mounted by
 * `admin.ts`): `GET /admin/v1/apps`, `PATCH /admin/v1/apps/{id}`,
 * `POST /admin/v1/apps/{id}/webhook-secret`, `GET /admin/v1/apps/{id}/webhooks` and
 * `POST /admin/v1/webhooks/{delivery_id}/retry`.
 */
import { Router, type Response } from "express";
import type { GatewayContext } from "../../context.js";
import { notFound, unprocessable } from "../../lib/app-error.js";
import { ok } from "../../protocol/envelope.js";
import type { Logger } from "../../lib/logger.js";
import { WebhookUrlRefused, type WebhookSettings } from "../../webhooks/service.js";
import { appAdminJson, deliveryJson, endpointHealthJson } from "../presenters/webhooks.js";
import { idParam } from "../params.js";
import { validate } from "../../transport/validation.js";
import { appPatchSchema } from "../schemas/admin.js";

const requestLog = (res: Response) => (res.locals as { log?: Logger }).log;

/** The app's JSON after a change, with `webhook_secret` when one was just made (shown once). */
export const settingsJson = (s: WebhookSettings) => ({
  ...appAdminJson(s.app),
  ...(s.secret !== undefined ? { webhook_secret: s.secret } : {}),
});

/** Runs `change`, mapping a refused webhook URL onto a 422 with the reason. */
export async function refusingBadUrls<T>(change: () => Promise<T>): Promise<T> {
  try {
    return await change();
  } catch (err) {
    if (err instanceof WebhookUrlRefused) throw unprocessable(err.message);
    throw err;
  }
}

export function createAdminWebhookRouter(ctx: GatewayContext): Router {
  const r = Router();

  r.get("/apps", async (_req, res) => {
    const apps = await ctx.webhooks.apps();
    res.json(
      ok(
        apps.map(({ app, health }) => ({
          ...appAdminJson(app),
          webhook_health: health ? endpointHealthJson(health) : null,
        })),
      ),
    );
  });

  r.patch("/apps/:id", async (req, res) => {
    const id = idParam(req.params.id);
    if (id === null) throw notFound("App not found");
    const body = validate(appPatchSchema, req.body);
    let secret: string | undefined;
    if (body.webhook_url !== undefined) {
      const url = body.webhook_url;
      const configured = await refusingBadUrls(() => ctx.webhooks.configure(id, url));
      if (!configured) throw notFound("App not found");
      secret = configured.secret;
    }
    if (body.media_url !== undefined && !(await ctx.repos.apps.update(id, { mediaUrl: body.media_url })))
      throw notFound("App not found");
    const app = await ctx.repos.apps.findForAdmin(id);
    if (!app) throw notFound("App not found");
    // This node's copy of the apps table predates the change (media_url is served from it).
    ctx.appAuth.forget();
    requestLog(res)?.info({ appId: id, webhook: body.webhook_url !== undefined }, "app updated");
    const shown = secret !== undefined ? { app, secret } : { app };
    res.json(
      ok(
        settingsJson(shown),
        secret !== undefined ? "App updated. The webhook secret is shown only once." : "App updated.",
      ),
    );
  });

  r.post("/apps/:id/webhook-secret", async (req, res) => {
    const id = idParam(req.params.id);
    const app = id === null ? null : await ctx.repos.apps.findForAdmin(id);
    if (!app || id === null) throw notFound("App not found");
    const settings = await ctx.webhooks.rotateSecret(id);
    if (!settings) throw unprocessable("The app has no webhook url.");
    requestLog(res)?.info({ appId: id }, "webhook secret rotated");
    res.json(ok(settingsJson(settings), "Webhook secret rotated. It is shown only once."));
  });

  r.get("/apps/:id/webhooks", async (req, res) => {
    const id = idParam(req.params.id);
    const log = id === null ? null : await ctx.webhooks.log(id);
    if (!log) throw notFound("App not found");
    res.json(
      ok({
        app: appAdminJson(log.app),
        health: endpointHealthJson(log.health),
        deliveries: log.deliveries.map(deliveryJson),
      }),
    );
  });

  r.post("/webhooks/:delivery_id/retry", async (req, res) => {
    const id = idParam(req.params.delivery_id);
    if (id === null || !(await ctx.webhooks.retry(id))) throw notFound("Delivery not found");
    requestLog(res)?.info({ deliveryId: id }, "webhook retried by hand");
    res.json(ok(true, "Delivery queued again."));
  });

  return r;
}
