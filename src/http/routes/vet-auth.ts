// STUB: owned by the platform engineer; replaced with the real vet login.
import { Router } from "express";
import type { GatewayContext } from "../../context.js";

/** `/vet/v1/login`: vet console login issuing a socket token. */
export function createVetAuthRouter(_ctx: GatewayContext): Router {
  return Router();
}
