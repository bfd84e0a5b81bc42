// STUB: owned by the platform engineer; replaced with the real admin API.
import { Router } from "express";
import type { GatewayContext } from "../../context.js";

/** `/admin/v1`: apps, vets and stats behind `Authorization: Bearer $ADMIN_TOKEN`. */
export function createAdminRouter(_ctx: GatewayContext): Router {
  return Router();
}
