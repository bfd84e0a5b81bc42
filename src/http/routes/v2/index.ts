/**
 * The partner v2 API under `/api/v2/{name}` (PROTOCOL §2), except the consultation
 * endpoints (talk-to-vet, end, feedback, video-call-action), which live in `consultations.ts`.
 * Routes stay thin: validate → repository/domain → envelope.
 */
import { Router, type RequestHandler } from "express";
import type { GatewayContext } from "../../../context.js";
import { ok } from "../../../protocol/envelope.js";
import { currentApp, mediaBaseUrl } from "./common.js";
import { createPetRouter } from "./pets.js";
import { createReportRouter } from "./reports.js";
import { createUserRouter, type UserSessions } from "./users.js";

/**
 * `GET media-url` (no auth): `data.media_url`, the base URL of pet images — the app's
 * `media_url` when set, else `{PUBLIC_URL or the request's origin}/media`.
 */
export function mediaUrlHandler(ctx: GatewayContext): RequestHandler {
  return (req, res) => {
    res.json(ok({ media_url: mediaBaseUrl(ctx, currentApp(res), req) }, "Media url"));
  };
}

/** The authenticated v2 routes: users, pets, reports, tokens. */
export function createV2Router(ctx: GatewayContext, userSessions?: UserSessions): Router {
  const router = Router();
  // Pets first: pet/list is the busiest route, and each router layer costs a path match.
  router.use(createPetRouter(ctx));
  router.use(createUserRouter(ctx, userSessions));
  router.use(createReportRouter(ctx));
  return router;
}
