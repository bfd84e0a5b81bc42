/**
 * `GET /admin/v1/stats/summary?from=&to=&app_id=&vet_id=` (PROTOCOL §9), behind
 * `ADMIN_TOKEN` (mounted by `admin.ts`). Dates are `YYYY-MM-DD` (UTC, both inclusive);
 * unset, the last 30 days up to today.
 */
import { Router } from "express";
import type { GatewayContext } from "../../context.js";
import { ok } from "../../protocol/envelope.js";
import { StatsSummary } from "../../ops/stats-summary.js";
import { validate } from "../../transport/validation.js";
import { summaryQuerySchema } from "../schemas/admin.js";
import { summaryJson } from "../presenters/stats-summary.js";

/** Longest range one summary covers. */
export const MAX_SUMMARY_DAYS = 366;

const DAY_MS = 86_400_000;

export function createAdminSummaryRouter(
  ctx: GatewayContext,
  summary: StatsSummary = new StatsSummary(ctx.database.db, ctx.clock),
): Router {
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
    res.json(
      ok(
        summaryJson(
          await summary.summary({
            from,
            to,
            ...(q.app_id !== undefined ? { appId: q.app_id } : {}),
            ...(q.vet_id !== undefined ? { vetId: q.vet_id } : {}),
          }),
        ),
      ),
    );
  });
  return r;
}
