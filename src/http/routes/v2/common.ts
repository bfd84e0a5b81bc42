/** Small helpers shared by the v2 routers. */
import type { Request, Response } from "express";
import type { GatewayContext } from "../../../context.js";
import { AppError, notFound } from "../../../lib/app-error.js";
import type { AppRecord } from "../../../repositories/apps.js";
import type { UserRow } from "../../../repositories/users.js";

/** The authenticated app of this request (set by the pipeline in `app.ts`). */
export function currentApp(res: Response): AppRecord {
  const app = (res.locals as { app?: AppRecord }).app;
  // Unreachable behind the pipeline's auth; a mis-mounted router must still not leak.
  if (!app) throw new AppError(401, "Unauthenticated.");
  return app;
}

/** The gateway clock's current instant. */
export function now(ctx: GatewayContext): Date {
  return new Date(ctx.clock.now());
}

/** The active user of the app with this email, or 404 `User not found`. */
export async function requireUser(ctx: GatewayContext, appId: number, email: string): Promise<UserRow> {
  const user = await ctx.repos.users.findActiveByEmail(appId, email);
  if (!user) throw notFound("User not found");
  return user;
}

/** A fresh Twilio access token (chat grant) for the user's §1 identity. */
export function twilioTokenFor(ctx: GatewayContext, user: Pick<UserRow, "appId" | "id">): string {
  return ctx.tokens.forUser(user.appId, user.id).token;
}

/**
 * Base URL of the pet images: the app's `media_url` when set, else `PUBLIC_URL` or the
 * request's own origin, plus `/media` (where `app.ts` serves `ctx.mediaDir`). Without
 * `PUBLIC_URL` the origin comes from the `Host` header, so production should set it.
 */
export function mediaBaseUrl(ctx: GatewayContext, app: AppRecord, req: Request): string {
  if (app.mediaUrl) return app.mediaUrl.replace(/\/+$/, "");
  const origin = ctx.config.publicUrl ?? `${req.protocol}://${req.get("host") ?? "localhost"}`;
  return `${origin.replace(/\/+$/, "")}/media`;
}

/** The request's JSON/form body as a record (absent or non-object bodies validate as given). */
export function bodyOf(req: Request): unknown {
  return req.body ?? {};
}
