/**
 * `GET /vet/v1/pets/{pet_id}/history` (PROTOCOL §10): a pet's past consultations in its app,
 * for a vet who holds, held or is offered a consultation about that pet.
 */
import { Router } from "express";
import { vetSessionValid } from "../../auth/vet-sessions.js";
import type { GatewayContext } from "../../context.js";
import { AppError, notFound } from "../../lib/app-error.js";
import { ok } from "../../protocol/envelope.js";
import { PetHistoryReader } from "../../repositories/pet-history.js";
import { validate } from "../../transport/validation.js";
import { idParam } from "../params.js";
import { petHistoryJson } from "../presenters/pet-history.js";
import { HISTORY_FORBIDDEN, petHistoryQuerySchema } from "../schemas/vet.js";
import { vetOfRequest } from "../vet-bearer.js";

/** The pet of the offer a vet holds now (live state: offers are recorded behind). */
export interface OfferedPetSource {
  offeredPet(vetId: number): Promise<{ appId: number; petId: number } | null>;
}

/** The history route; without `offers` (tests) only consultations held or holding grant access. */
export function createVetPetRouter(ctx: GatewayContext, offers?: Partial<OfferedPetSource>): Router {
  const r = Router();
  const reader = new PetHistoryReader(ctx.database.db);

  r.get("/pets/:pet_id/history", async (req, res) => {
    const principal = await vetOfRequest(ctx, req);
    // As POST /vet/v1/token: a vet disabled or revoked since the token was issued reads nothing.
    const vet = await ctx.repos.vets.findById(principal.vetId);
    if (!vetSessionValid(vet, principal, ctx.config.demo)) throw new AppError(401, "Unauthenticated.");
    const petId = idParam(req.params.pet_id);
    if (petId === null) throw notFound("Pet not found");
    const q = validate(petHistoryQuerySchema, req.query);
    // An unknown pet answers as one the vet has no consultation about: ids cannot be probed.
    const allowed =
      (await reader.vetHeldPet(principal.vetId, petId)) ||
      (await offers?.offeredPet?.(principal.vetId))?.petId === petId;
    if (!allowed) throw new AppError(403, HISTORY_FORBIDDEN);
    const { rows, total } = await reader.page(petId, q.page, q.perPage);
    res.json(ok(petHistoryJson(rows, total, q.page, q.perPage), "Pet history"));
  });

  return r;
}
