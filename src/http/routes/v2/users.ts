/** `register-user`, `update-user`, `actions`, `delete-user`, `refresh`, `socket-token`. */
import { Router } from "express";
import type { GatewayContext } from "../../../context.js";
import { notFound, unprocessable } from "../../../lib/app-error.js";
import { ok } from "../../../protocol/envelope.js";
import { toDeletedUserJson, toEmergencyStatsJson, toUserJson } from "../../presenters/users.js";
import { parseIdentity } from "../../../twilio/identity.js";
import { validate } from "../../../transport/validation.js";
import { discardImage, storedImageName } from "./upload.js";
import { bodyOf, currentApp, now, requireUser, twilioTokenFor } from "./common.js";
import {
  actionsSchema,
  deleteUserSchema,
  petFields,
  refreshSchema,
  registerUserSchema,
  socketTokenSchema,
  updateUserSchema,
} from "./schemas.js";

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * What `delete-user` revokes beyond the row (PROTOCOL §6); the composition root provides it
 * over the engine and Socket.IO.
 */
export interface UserSessions {
  /** Ends or cancels the owner's open consultation (the vet is told) and closes their sockets on every node. */
  userDeleted(appId: number, userId: number): Promise<void>;
}

/**
 * The user routes. A deleted user is refused everything after: `socket-token`, `refresh`,
 * talk-to-vet (`requireUser`), the socket handshake and `token:refresh` find no active user.
 */
export function createUserRouter(ctx: GatewayContext, sessions?: UserSessions): Router {
  const router = Router();

  router.post("/register-user", async (req, res) => {
    const app = currentApp(res);
    const input = validate(registerUserSchema, bodyOf(req));
    const at = now(ctx);
    const { user, statuses, pet } = await ctx.repos.users.register(
      app.id,
      {
        email: input.email,
        firstName: input.first_name,
        lastName: input.last_name,
        phoneNo: input.phone_no,
        devType: input.dev_type,
        role: input.role,
        // Only protected users have an emergency fund.
        emergencyFund: input.role === "protect_users" ? (input.emergency_fund ?? 0) : 0,
        region: input.region,
      },
      at,
      input.pet ? { ...petFields(input.pet), name: input.pet.name } : null,
    );
    const socketToken = await ctx.socketTokens.issue({ kind: "user", appId: app.id, userId: user.id });
    res.json(
      ok(
        {
          user: toUserJson(app.name, user, at, { pet, statuses }),
          twilioToken: twilioTokenFor(ctx, user),
          emergency_stats: toEmergencyStatsJson(user, at),
          socket_token: socketToken,
        },
        "User registered successfully.",
      ),
    );
  });

  // The reference documents this endpoint's answer as `"End chat successful"`, `data: true`; kept verbatim.
  router.post("/actions", async (req, res) => {
    const app = currentApp(res);
    const input = validate(actionsSchema, bodyOf(req));
    const user = await requireUser(ctx, app.id, input.email);
    const updated = await ctx.repos.users.applyAction(
      app.id,
      user.id,
      {
        firstName: input.first_name,
        lastName: input.last_name,
        role: input.role,
        status: input.status,
        emergencyFund: input.emergency_fund,
      },
      now(ctx),
    );
    if (!updated) throw notFound("User not found");
    res.json(ok(true, "End chat successful"));
  });

  // PROTOCOL §4: the owner's profile, notably `region` (licensing). Answers the user as register-user does, with `pets: null`.
  router.post("/update-user", async (req, res) => {
    const app = currentApp(res);
    const input = validate(updateUserSchema, bodyOf(req));
    const user = await requireUser(ctx, app.id, input.email);
    const at = now(ctx);
    const updated = await ctx.repos.users.updateProfile(
      app.id,
      user.id,
      {
        firstName: input.first_name,
        lastName: input.last_name,
        phoneNo: input.phone_no,
        devType: input.dev_type,
        region: input.region,
      },
      at,
    );
    if (!updated) throw notFound("User not found");
    const statuses = await ctx.repos.users.statuses(app.id, updated.id);
    res.json(ok(toUserJson(app.name, updated, at, { pet: null, statuses }), "User updated successfully."));
  });

  router.post("/delete-user", async (req, res) => {
    const app = currentApp(res);
    const input = validate(deleteUserSchema, bodyOf(req));
    // A mismatched `app_id` is a bad request from an authenticated partner, not a missing
    // user: 422, checked before any lookup so it reveals nothing about other apps.
    if (input.app_id !== app.id) throw unprocessable("The selected app id is invalid.");
    const user = await requireUser(ctx, app.id, input.email);
    const at = now(ctx);
    const removed = await ctx.repos.users.softDeleteWithPets(app.id, user.id, at);
    if (!removed) throw notFound("User not found");
    const deleted = removed.user;
    // The pets went with the owner (PROTOCOL §7): their images go from storage too.
    for (const profile of removed.petProfiles) {
      const file = storedImageName(profile);
      if (file) await discardImage(ctx.mediaDir, file);
    }
    // After the row: a socket reconnecting meanwhile is refused at the handshake.
    await sessions?.userDeleted(app.id, deleted.id);
    const latest = await ctx.repos.users.latestStatus(app.id, deleted.id);
    res.json(ok(toDeletedUserJson(app.name, deleted, at, latest), "User deleted successfully"));
  });

  router.get("/refresh", async (req, res) => {
    const app = currentApp(res);
    // Query parameters win over a JSON body (the reference sends a body with GET).
    const input = validate(refreshSchema, { ...(isRecord(req.body) ? req.body : {}), ...req.query });
    const parsed = parseIdentity(input.identity);
    if (!parsed) throw unprocessable("The selected identity is invalid.");
    // Vet identities, other prefixes and other apps' users are not this app's users.
    if (parsed.kind !== "user" || parsed.prefix !== ctx.config.twilio.identityPrefix || parsed.appId !== app.id) {
      throw notFound("User not found");
    }
    const user = await ctx.repos.users.findById(app.id, parsed.userId);
    if (!user) throw notFound("User not found");
    res.json(ok({ twilioToken: twilioTokenFor(ctx, user) }, "User token"));
  });

  router.post("/socket-token", async (req, res) => {
    const app = currentApp(res);
    const input = validate(socketTokenSchema, bodyOf(req));
    const user = await requireUser(ctx, app.id, input.email);
    res.json(ok(await ctx.socketTokens.issue({ kind: "user", appId: app.id, userId: user.id }), "Socket token"));
  });

  return router;
}
