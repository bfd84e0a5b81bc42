/**
 * `GET /admin/v1/stats/summary?from=&to=&app_id=&vet_id=` (PROTOCOL §9), behind
 * `ADMIN_TOKEN` (mounted by `admin.ts`). Dates are `YYYY-MM-DD` (UTC, both inclusive);
 * unset, the last 30 days up to today.
 */
import { Router } from "express";
import { z } from "zod";
import type { GatewayContext } from "../../context.js";
import { ok } from "../../lib/envelope.js";
import { StatsSummary } from "../../ops/stats-summary.js";
import { validate } from "../validation.js";
import { summaryJson } from "../presenters/stats-summary.js";

/** Longest range one summary covers. */
export const MAX_SUMMARY_DAYS = 366;

const date = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, { error: "The :attribute must be a date (YYYY-MM-DD)." })
  .refine((d) => !Number.isNaN(Date.parse(`${d}T00:00:00Z`)) && new Date(`${d}T00:00:00Z`).toISOString().startsWith(d), {
    error: "The :attribute must be a date (YYYY-MM-DD).",
  });
const id = z.coerce.number({ error: "The :attribute must be an integer." }).int({ error: "The :attribute must be an integer." }).min(1).max(2_147_483_647);

/** Query of `GET /admin/v1/stats/summary`. */
export const summaryQuerySchema = z
  .strictObject({
    from: date.optional().meta({ description: "First day (UTC), inclusive; default 29 days before `to`.", example: "2026-11-01" }),
    to: date.optional().meta({ description: "Last day (UTC), inclusive; default today.", example: "2026-11-30" }),
    app_id: id.optional(),
    vet_id: id.optional(),
  })
  .meta({ id: "SummaryQuery" });

const DAY_MS = 86_400_000;

export function createAdminSummaryRouter(ctx: GatewayContext, summary: StatsSummary = new StatsSummary(ctx.database.db, ctx.clock)): Router {
  const r = Router();
  r.get("/stats/summary", async (req, res) => {
    const q = validate(summaryQuerySchema, req.query);
    const to = q.to ?? new Date(ctx.clock.now()).toISOString().slice(0, 10);
    const from = q.from ?? new Date(Date.parse(`${to}T00:00:00Z`) - 29 * DAY_MS).toISOString().slice(0, 10);
    const span = (Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / DAY_MS + 1;
    const problems = [
      ...(span < 1 ? ["The from must be a date before or equal to to."] : []),
      ...(span > MAX_SUMMARY_DAYS ? [`The range must not be longer than ${String(MAX_SUMMARY_DAYS)} days.`] : []),
    ];
    if (problems.length > 0) {
      res.status(422).json({ success: false, status_code: 422, message: problems, data: [] });
      return;
    }
    res.json(ok(summaryJson(await summary.summary({ from, to, ...(q.app_id !== undefined ? { appId: q.app_id } : {}), ...(q.vet_id !== undefined ? { vetId: q.vet_id } : {}) }))));
  });
  return r;
}
