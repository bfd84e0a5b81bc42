/**
 * `PATCH /admin/v1/vets/{id}` `{active}` (PROTOCOL §6), mounted behind `ADMIN_TOKEN` by
 * `admin.ts`. Disabling closes the vet's sockets on every node, moves a held offer on and
 * hands their active consultations over at once (PROTOCOL §4). Login, socket handshakes and
 * `token:refresh` check `active` themselves, so a disabled vet cannot come back until restored.
 */
import { Router } from "express";
import { z } from "zod";
import type { GatewayContext } from "../../context.js";
import { notFound, ok } from "../../lib/envelope.js";
import type { Logger } from "../../lib/logger.js";
import { validate } from "../validation.js";
import { vetJson } from "../presenters/admin.js";

/** Closes a vet's live sessions (all nodes); the composition root provides it over Socket.IO. */
export interface VetSessions {
  disconnectVet(vetId: number): void;
  /** Hands the disabled vet's active consultations over and moves its offer on (engine). */
  vetDisabled?(vetId: number): Promise<void>;
}

export const vetPatchSchema = z.strictObject({
  active: z.boolean({ error: "The :attribute field must be true or false." }),
});

const PG_INT_MAX = 2_147_483_647;

export function createAdminVetRouter(ctx: GatewayContext, sessions?: VetSessions): Router {
  const r = Router();
  r.patch("/vets/:id", async (req, res) => {
    const id = /^\d{1,10}$/.test(req.params.id) ? Number(req.params.id) : NaN;
    if (!(id >= 1 && id <= PG_INT_MAX)) throw notFound("Vet not found");
    const body = validate(vetPatchSchema, req.body);
    const vet = await ctx.repos.vets.setActive(id, body.active);
    if (!vet) throw notFound("Vet not found");
    if (!vet.active) {
      // Out of routing first, so no new offer reaches sockets that are closing.
      await sessions?.vetDisabled?.(vet.id);
      sessions?.disconnectVet(vet.id);
    }
    (res.locals as { log?: Logger }).log?.info({ vetId: vet.id, active: vet.active }, "vet updated");
    res.json(ok({ ...vetJson(vet, ctx.config.twilio.vetAppId), active: vet.active }, vet.active ? "Vet enabled." : "Vet disabled."));
  });
  return r;
}
