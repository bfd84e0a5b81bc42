/**
 * `PATCH /admin/v1/vets/{id}` `{active?, species?, languages?, max_chats?}` (PROTOCOL §4, §6),
 * mounted behind `ADMIN_TOKEN` by `admin.ts`. Disabling closes the vet's sockets on every
 * node, moves a held offer on and hands their active consultations over at once (PROTOCOL
 * §4). Login, socket handshakes and `token:refresh` check `active` themselves, so a disabled
 * vet cannot come back until restored. New skills reach routing once recorded.
 */
import { Router } from "express";
import { z } from "zod";
import type { GatewayContext } from "../../context.js";
import type { VetSkills } from "../../domain/types.js";
import { notFound, ok } from "../../lib/envelope.js";
import type { Logger } from "../../lib/logger.js";
import { languageCodeSchema } from "../../protocol/languages.js";
import { vetSkillsOf } from "../../repositories/vets.js";
import { idParam } from "../params.js";
import { validate } from "../../transport/validation.js";
import { vetJson } from "../presenters/admin.js";

/** Closes a vet's live sessions (all nodes); the composition root provides it over Socket.IO. */
export interface VetSessions {
  disconnectVet(vetId: number): void;
  /** Hands the disabled vet's active consultations over and moves its offer on (engine). */
  vetDisabled?(vetId: number): Promise<void>;
  /** The vet's skills were recorded: routing (every node) uses them from now on. */
  vetSkillsChanged?(vetId: number, skills: VetSkills): Promise<void>;
}

/** At most this many species or languages per vet. */
export const MAX_VET_SKILL_ENTRIES = 20;
/** `max_chats` bounds (null = `VET_MAX_CONSULTS`). */
export const MAX_CHATS_LIMIT = 10;

const dedupe = <T>(list: T[]): T[] => [...new Set(list)];
const tooMany = { error: `The :attribute must not have more than ${String(MAX_VET_SKILL_ENTRIES)} items.` };

/**
 * The vet's routing attributes (PROTOCOL §4 skills), as `POST /admin/v1/vets`, `PATCH
 * /admin/v1/vets/{id}` and the CLI take them. Species are trimmed and lower-cased; both lists
 * lose duplicates.
 */
export const vetAttributeFields = {
  species: z
    .array(
      z
        .string()
        .trim()
        .toLowerCase()
        .regex(/^[a-z][a-z -]{0,39}$/, { error: "The :attribute must be a lower-case species name (letters, spaces, hyphens; at most 40)." }),
    )
    .max(MAX_VET_SKILL_ENTRIES, tooMany)
    .overwrite(dedupe)
    .optional()
    .meta({ description: "Species the vet treats, e.g. `[\"dog\", \"cat\"]`; empty = every species (default).", example: ["dog", "cat"] }),
  languages: z
    .array(languageCodeSchema)
    .min(1, { error: "The :attribute must have at least 1 item." })
    .max(MAX_VET_SKILL_ENTRIES, tooMany)
    .overwrite(dedupe)
    .optional()
    .meta({ description: "ISO 639-1 codes the vet speaks; default `[\"en\"]`.", example: ["en", "es"] }),
  max_chats: z
    .int({ error: "The :attribute must be an integer." })
    .min(1, { error: "The :attribute must be at least 1." })
    .max(MAX_CHATS_LIMIT, { error: `The :attribute must not be greater than ${String(MAX_CHATS_LIMIT)}.` })
    .nullable()
    .optional()
    .meta({ description: `Chat consultations held at once, 1–${String(MAX_CHATS_LIMIT)}; null = \`VET_MAX_CONSULTS\` (default).` }),
};

/** A vet's password, as `POST /admin/v1/vets`, `PATCH /admin/v1/vets/{id}` and the CLI take it. */
export const vetPasswordSchema = z.string().min(8).max(256);

/** Body of `PATCH /admin/v1/vets/{id}`: at least one field. */
export const vetPatchSchema = z
  .strictObject({
    active: z.boolean({ error: "The :attribute field must be true or false." }).optional(),
    password: vetPasswordSchema.optional().meta({ description: "A new password: every session of the vet is revoked (PROTOCOL §7)." }),
    ...vetAttributeFields,
  })
  .refine((b) => Object.values(b).some((v) => v !== undefined), {
    error: "At least one of active, password, species, languages, max_chats is required.",
  });

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
    });
    if (!vet) throw notFound("Vet not found");
    const skillsChanged = body.species !== undefined || body.languages !== undefined || body.max_chats !== undefined;
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
    (res.locals as { log?: Logger }).log?.info({ vetId: vet.id, active: vet.active, skillsChanged, passwordChanged: body.password !== undefined }, "vet updated");
    const message = body.active === undefined ? (body.password !== undefined ? "Vet password changed." : "Vet updated.") : vet.active ? "Vet enabled." : "Vet disabled.";
    res.json(ok({ ...vetJson(vet, ctx.config.twilio.vetAppId), active: vet.active }, message));
  });
  return r;
}
