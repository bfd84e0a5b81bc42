import { Router, type Request } from "express";
import type { GatewayContext } from "../../context.js";
import { AppError, ok } from "../../lib/envelope.js";
import type { StatsSource } from "./admin.js";

/** `GET /vet/v1/config`: what the console needs to know about this gateway (nothing secret). */
export interface VetConsoleConfig {
  /** `offline`: chat and video are simulated; `live`: the console joins Twilio. */
  twilio_mode: "offline" | "live";
  /** Wrap-up length after a consultation ends. */
  wrapup_ms: number;
  /** How long an offer waits for the vet. */
  offer_timeout_ms: number;
}

/**
 * Small endpoints of the vet console: `GET /vet/v1/config` (public); and, with
 * `Authorization: Bearer <vet socket token>`, `GET /vet/v1/queue` → `{queue_length,
 * vets_available}` (polled: no `/vet` event carries the queue) and `POST /vet/v1/token` →
 * a fresh `{token, expires_at}` (so a console renews its session without keeping the password).
 */
export function createVetConsoleRouter(ctx: GatewayContext, stats?: StatsSource): Router {
  const r = Router();
  const vetOf = async (req: Request): Promise<number> => {
    const m = /^Bearer[ \t]+(\S{1,4096})[ \t]*$/i.exec(req.get("authorization") ?? "");
    const p = m ? await ctx.socketTokens.verify(m[1], "vet") : null;
    if (p?.kind !== "vet") throw new AppError(401, "Unauthenticated.");
    return p.vetId;
  };
  r.get("/config", (_req, res) => {
    const data: VetConsoleConfig = {
      twilio_mode: ctx.config.twilio.mode,
      wrapup_ms: ctx.config.routing.wrapupMs,
      offer_timeout_ms: ctx.config.routing.offerTimeoutMs,
    };
    res.json(ok(data));
  });
  r.get("/queue", async (req, res) => {
    await vetOf(req);
    const s = stats ? await stats.stats() : { queue_length: 0, vets: {} as Record<string, number> };
    res.json(ok({ queue_length: s.queue_length, vets_available: s.vets.available ?? 0 }));
  });
  r.post("/token", async (req, res) => {
    const vetId = await vetOf(req);
    // A vet removed or disabled since the token was issued gets no new one.
    const vet = await ctx.repos.vets.findById(vetId);
    if (!vet?.active) throw new AppError(401, "Unauthenticated.");
    res.json(ok(await ctx.socketTokens.issue({ kind: "vet", vetId })));
  });
  return r;
}
