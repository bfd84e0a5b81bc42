/**
 * Operator reads of the consultation ledger (PROTOCOL §6), mounted under `/admin/v1` behind
 * `ADMIN_TOKEN` by `admin.ts`: `GET /consultations/{id}` and the filtered, paged list.
 */
import { Router } from "express";
import { z } from "zod";
import type { GatewayContext } from "../../context.js";
import { notFound, ok } from "../../lib/envelope.js";
import { ConsultationReader } from "../../repositories/consultations.js";
import { consultationAuditJson, consultationJson } from "../presenters/admin.js";
import { validate } from "../../transport/validation.js";

const STATUSES = ["queued", "offered", "active", "ended", "cancelled", "expired"] as const;
const PG_INT_MAX = 2_147_483_647;

/** An integer query parameter ("12"), or undefined when blank. */
const queryInt = (min: number, max = PG_INT_MAX) =>
  z.preprocess(
    (v) => (v === "" ? undefined : typeof v === "string" && /^\s*-?\d{1,16}\s*$/.test(v) ? Number(v) : v),
    z
      .int({ error: "The :attribute must be an integer." })
      .min(min, { error: `The :attribute must be at least ${String(min)}.` })
      .max(max, { error: `The :attribute must not be greater than ${String(max)}.` })
      .optional(),
  );

/** Query of `GET /admin/v1/consultations`; unknown parameters are refused so typos do not list everything. */
export const consultationListSchema = z.strictObject({
  status: z.preprocess((v) => (v === "" ? undefined : v), z.enum(STATUSES).optional()),
  app_id: queryInt(1),
  vet_id: queryInt(1),
  page: queryInt(1).default(1),
  perPage: queryInt(1, 100).default(20),
});

/** The consultation routes; the caller mounts them behind the admin token check. */
export function createAdminConsultationRouter(ctx: GatewayContext): Router {
  const r = Router();
  const reader = new ConsultationReader(ctx.database.db);

  r.get("/consultations", async (req, res) => {
    const q = validate(consultationListSchema, req.query);
    const { rows, total } = await reader.list({ status: q.status, appId: q.app_id, vetId: q.vet_id, page: q.page, perPage: q.perPage });
    res.json(
      ok({
        list: rows.map(consultationJson),
        pagination: { total, page: q.page, perPage: q.perPage, last_page: Math.max(1, Math.ceil(total / q.perPage)) },
      }),
    );
  });

  r.get("/consultations/:id", async (req, res) => {
    const found = await reader.audit(req.params.id);
    if (!found) throw notFound("Consultation not found");
    res.json(ok(consultationAuditJson(found)));
  });

  return r;
}
