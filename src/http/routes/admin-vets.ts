/**
 * `PATCH /admin/v1/vets/{id}` `{active?, password?, species?, languages?, max_chats?, licenses?}` (PROTOCOL §4, §6),
 * mounted behind `ADMIN_TOKEN` by `admin.ts`. Disabling closes the vet's sockets on every
 * node, moves a held offer on and hands their active consultations over at once (PROTOCOL
 * §4). Login, socket handshakes and `token:refresh` check `active` themselves, so a disabled
 * vet cannot come back until restored. New skills reach routing once recorded.
 */
import { Router } from "express";
import type { GatewayContext } from "../../context.js";
import type { VetSkills } from "../../domain/types.js";
import { notFound } from "../../lib/app-error.js";
import { ok } from "../../protocol/envelope.js";
import type { Logger } from "../../lib/logger.js";
import { vetSkillsOf } from "../../repositories/vets.js";
import { idParam } from "../params.js";
import { validate } from "../../transport/validation.js";
import { vetJson } from "../presenters/admin.js";
import { vetPatchSchema } from "../schemas/admin.js";

/** Closes a vet's live sessions (all nodes); the composition root provides it over Socket.IO. */
export interface VetSessions {
  disconnectVet(vetId: number): void;
  /** Hands the disabled vet's active consultations over and moves its offer on (engine). */
  vetDisabled?(vetId: number): Promise<void>;
  /** The vet's skills were recorded: routing (every node) uses them from now on. */
  vetSkillsChanged?(vetId: number, skills: VetSkills): Promise<void>;
}

export function createAdminVetRouter(ctx: GatewayContext, sessions?: VetSessions): Router {
  const r = Router();
  r.patch("/vets/:id", async (req, res) => {
    const id = idParam(req.params.id);
    if (id === null) throw notFound("Vet not found");
    const body = validate(vetPatchSchema, req.body);
    const vet = await ctx.repos.vets.update(id, {
      active: body.active,
      password: body.password,
      species: body.species,
      languages: body.languages,
      maxChats: body.max_chats,
      licenses: body.licenses,
    });
    if (!vet) throw notFound("Vet not found");
    const skillsChanged =
      body.species !== undefined ||
      body.languages !== undefined ||
      body.max_chats !== undefined ||
      body.licenses !== undefined;
    // Recorded first; then routing hears of the new skills (PROTOCOL §6).
    if (skillsChanged) await sessions?.vetSkillsChanged?.(vet.id, vetSkillsOf(vet));
    if (body.active === false) {
      // Out of routing first, so no new offer reaches sockets that are closing.
      await sessions?.vetDisabled?.(vet.id);
      sessions?.disconnectVet(vet.id);
    } else if (body.password !== undefined) {
      // The session version moved: sockets opened with older tokens close (the vet logs in again).
      sessions?.disconnectVet(vet.id);
    }
    (res.locals as { log?: Logger }).log?.info(
      { vetId: vet.id, active: vet.active, skillsChanged, passwordChanged: body.password !== undefined },
      "vet updated",
    );
    const message =
      body.active === undefined
        ? body.password !== undefined
          ? "Vet password changed."
          : "Vet updated."
        : vet.active
          ? "Vet enabled."
          : "Vet disabled.";
    res.json(ok({ ...vetJson(vet, ctx.config.twilio.vetAppId), active: vet.active }, message));
  });
  return r;
}
