/** The vet of a `/vet/v1` REST call: `Authorization: Bearer <vet socket token>`, else 401. */
import type { Request } from "express";
import type { VetPrincipal } from "../auth/socket-tokens.js";
import type { GatewayContext } from "../context.js";
import { AppError } from "../lib/app-error.js";

/** The vet principal of the bearer token, or a 401 `Unauthenticated.` */
export async function vetOfRequest(ctx: GatewayContext, req: Request): Promise<VetPrincipal> {
  const m = /^Bearer[ \t]+(\S{1,4096})[ \t]*$/i.exec(req.get("authorization") ?? "");
  const p = m ? await ctx.socketTokens.verify(m[1], "vet") : null;
  if (p?.kind !== "vet") throw new AppError(401, "Unauthenticated.");
  return p;
}
