/**
 * `/demo/v1` (mounted only with `DEMO=1`): what the demo page needs to play a partner app
 * without a partner server: the demo owners with their pets, and their `/user` socket tokens.
 */
import { Router } from "express";
import type { GatewayContext } from "../../context.js";
import { DEMO_APP_NAME, DEMO_OWNERS, DEMO_VETS } from "../../demo/data.js";
import { AppError } from "../../lib/app-error.js";
import { ok } from "../../protocol/envelope.js";
import { validate } from "../../transport/validation.js";
import { demoOwnerJson, demoVetJson } from "../presenters/demo.js";
import { ownerTokenSchema } from "../schemas/demo.js";

export function createDemoRouter(ctx: GatewayContext): Router {
  const r = Router();
  const demoApp = async () => {
    const app = await ctx.repos.apps.findByName(DEMO_APP_NAME);
    if (!app) throw new AppError(404, "App Not Found");
    return app;
  };

  /** `GET /demo/v1/owners` → `[{email, first_name, last_name, role, pets: [{id, name, species, breed, age, weight, sex, color, profile}]}]`. */
  r.get("/owners", async (_req, res) => {
    const app = await demoApp();
    const owners = [];
    for (const o of DEMO_OWNERS) {
      const user = await ctx.repos.users.findActiveByEmail(app.id, o.email);
      if (!user) continue;
      const pets = (await ctx.repos.pets.listByOwnerEmail(app.id, o.email)) ?? [];
      owners.push(demoOwnerJson(user, pets));
    }
    res.json(ok(owners, "Demo owners"));
  });

  /** `GET /demo/v1/vets` → `[{email, first_name, last_name}]`: who the demo owner may ask for. */
  r.get("/vets", (_req, res) => {
    res.json(ok(DEMO_VETS.map(demoVetJson), "Demo vets"));
  });

  /** `POST /demo/v1/owner-token {email}` → `{token, expires_at}` for that demo owner's `/user` socket. */
  r.post("/owner-token", async (req, res) => {
    const { email } = validate(ownerTokenSchema, req.body);
    const app = await demoApp();
    // Only the seeded demo owners (PROTOCOL §7), never another user of the app named `demo`.
    const user = DEMO_OWNERS.some((o) => o.email === email.toLowerCase())
      ? await ctx.repos.users.findActiveByEmail(app.id, email)
      : null;
    if (!user?.demo) throw new AppError(404, "User not found.");
    const { token, expires_at } = await ctx.socketTokens.issue({ kind: "user", appId: app.id, userId: user.id });
    res.json(ok({ token, expires_at }, "Socket token"));
  });

  return r;
}
