// STUB: owned by the v2 REST engineer; replaced with the real routes.
import { Router, type RequestHandler } from "express";
import type { GatewayContext } from "../../../context.js";

/** `GET media-url` (no auth). */
export function mediaUrlHandler(_ctx: GatewayContext): RequestHandler {
  return (_req, res) => {
    res.json({});
  };
}

/** The authenticated v2 routes: users, pets, reports, tokens. */
export function createV2Router(_ctx: GatewayContext): Router {
  return Router();
}
