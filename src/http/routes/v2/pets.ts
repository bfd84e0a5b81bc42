/** `pet/add`, `pet/update`, `pet/remove`, `pet/list`. */
import { Router, type Request } from "express";
import type { GatewayContext } from "../../../context.js";
import { notFound } from "../../../lib/app-error.js";
import { ok } from "../../../protocol/envelope.js";
import { toPetJson } from "../../../repositories/pets.js";
import { validate } from "../../../transport/validation.js";
import { bodyOf, currentApp, mediaBaseUrl, now, requireUser } from "./common.js";
import { petAddSchema, petFields, petListSchema, petRemoveSchema, petUpdateSchema } from "./schemas.js";
import { checkImage, discardImage, profileUpload, storeImage, storedImageName, type CheckedImage } from "./upload.js";

/** The uploaded `profile` image of a multipart request, checked by content; null when none was sent. */
async function uploadedImage(req: Request): Promise<CheckedImage | null> {
  return req.file ? checkImage(req.file) : null;
}

/** The pet routes; `pet/add` and `pet/update` also take `multipart/form-data` with an image `profile`. */
export function createPetRouter(ctx: GatewayContext): Router {
  const router = Router();
  const upload = profileUpload();

  router.post("/pet/add", upload, async (req, res) => {
    const app = currentApp(res);
    const input = validate(petAddSchema, bodyOf(req));
    const image = await uploadedImage(req);
    const user = await requireUser(ctx, app.id, input.email);
    const file = image ? await storeImage(ctx.mediaDir, image) : null;
    try {
      const fields = petFields(input);
      const pet = await ctx.repos.pets.create(
        app.id,
        user.id,
        { ...fields, name: input.name, ...(file ? { profile: `${mediaBaseUrl(ctx, app, req)}/${file}` } : {}) },
        now(ctx),
      );
      res.json(ok({ email: user.email, pet: toPetJson(pet) }, "Pet Added"));
    } catch (err) {
      if (file) await discardImage(ctx.mediaDir, file);
      throw err;
    }
  });

  router.post("/pet/update", upload, async (req, res) => {
    const app = currentApp(res);
    const input = validate(petUpdateSchema, bodyOf(req));
    const image = await uploadedImage(req);
    const user = await requireUser(ctx, app.id, input.email);
    if (!(await ctx.repos.pets.findForUser(app.id, user.id, input.pet_id))) throw notFound("Pet not found");
    const file = image ? await storeImage(ctx.mediaDir, image) : null;
    let replaced: string | null = null;
    let pet;
    try {
      const fields = petFields(input.pet);
      if (file) {
        fields.profile = `${mediaBaseUrl(ctx, app, req)}/${file}`;
        const result = await ctx.repos.pets.updateReturningPrevious(app.id, user.id, input.pet_id, fields, now(ctx));
        pet = result?.pet;
        replaced = result ? result.previousProfile : null;
      } else {
        pet = await ctx.repos.pets.update(app.id, user.id, input.pet_id, fields, now(ctx));
      }
      // Removed between the check and the update.
      if (!pet) throw notFound("Pet not found");
    } catch (err) {
      if (file) await discardImage(ctx.mediaDir, file);
      throw err;
    }
    // A replaced image is no longer public (PROTOCOL §7), by the time the partner hears back.
    const old = storedImageName(replaced);
    if (old && old !== file) await discardImage(ctx.mediaDir, old);
    res.json(ok({ pet: toPetJson(pet) }, "Pet Updated"));
  });

  router.post("/pet/remove", async (req, res) => {
    const app = currentApp(res);
    const input = validate(petRemoveSchema, bodyOf(req));
    const user = await requireUser(ctx, app.id, input.email);
    const removed = await ctx.repos.pets.softDeleteReturningProfile(app.id, user.id, input.pet_id, now(ctx));
    if (!removed) throw notFound("Pet not found");
    const old = storedImageName(removed.profile);
    if (old) await discardImage(ctx.mediaDir, old);
    res.json(ok(true, "Pet data deleted successfully"));
  });

  router.get("/pet/list", async (req, res) => {
    const app = currentApp(res);
    const q = validate(petListSchema, req.query);
    const paged = q.pagination === true;
    if (!paged && !q.search_value) {
      // The common case in one query: owner and pets together.
      const rows = await ctx.repos.pets.listByOwnerEmail(app.id, q.email);
      if (!rows) throw notFound("User not found");
      res.json(ok({ list: rows.map(toPetJson) }, "pet list"));
      return;
    }
    const user = await requireUser(ctx, app.id, q.email);
    const { rows, total } = await ctx.repos.pets.list(app.id, user.id, {
      searchBy: q.search_by,
      searchValue: q.search_value,
      ...(paged ? { page: q.page, perPage: q.perPage } : {}),
    });
    const list = rows.map(toPetJson);
    res.json(
      ok(
        paged
          ? {
              list,
              pagination: {
                total,
                page: q.page,
                perPage: q.perPage,
                last_page: Math.max(1, Math.ceil(total / q.perPage)),
              },
            }
          : { list },
        "pet list",
      ),
    );
  });

  return router;
}
