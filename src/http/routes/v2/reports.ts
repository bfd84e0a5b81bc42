/** `report/webappuser/profile`: the app's users with their subscription data. */
import { Router } from "express";
import type { GatewayContext } from "../../../context.js";
import { ok } from "../../../protocol/envelope.js";
import { toReportRowJson } from "../../presenters/users.js";
import { validate } from "../../../transport/validation.js";
import { bodyOf, currentApp, now } from "./common.js";
import { reportSchema } from "./schemas.js";

const DAY_MS = 86_400_000;

/**
 * The report router. `data` stays the reference's bare array of rows, also with
 * `pagination=1` (then one page of it); the page numbers travel in the headers
 * `x-pagination-total`, `-page`, `-per-page` and `-last-page` so array-parsing partners keep working.
 */
export function createReportRouter(ctx: GatewayContext): Router {
  const router = Router();

  router.post("/report/webappuser/profile", async (req, res) => {
    const app = currentApp(res);
    const q = validate(reportSchema, bodyOf(req));
    const paged = q.pagination === true;
    const at = now(ctx);
    const { rows, total } = await ctx.repos.users.report(app.id, {
      registeredFrom: q.date_from,
      // `date_to` is inclusive: everything before the next UTC midnight.
      registeredBefore: q.date_to ? new Date(q.date_to.getTime() + DAY_MS) : undefined,
      search: q.search_value,
      status: q.status,
      role: q.selectedProtect,
      ...(paged ? { page: q.page, perPage: q.perPage } : {}),
    });
    if (paged) {
      res.setHeader("x-pagination-total", String(total));
      res.setHeader("x-pagination-page", String(q.page));
      res.setHeader("x-pagination-per-page", String(q.perPage));
      res.setHeader("x-pagination-last-page", String(Math.max(1, Math.ceil(total / q.perPage))));
    }
    res.json(
      ok(
        rows.map((u) => toReportRowJson(u, at)),
        "Successfully Get User Details.",
      ),
    );
  });

  return router;
}
