/**
 * Operator reads of the consultation ledger (PROTOCOL §6), mounted under `/admin/v1` behind
 * `ADMIN_TOKEN` by `admin.ts`: `GET /consultations/{id}` and the filtered, paged list.
 */
import { Router } from "express";
import type { GatewayContext } from "../../context.js";
import { notFound } from "../../lib/app-error.js";
import { ok } from "../../protocol/envelope.js";
import { ConsultationReader } from "../../repositories/consultation-reader.js";
import { consultationAuditJson, consultationJson } from "../presenters/admin.js";
import { validate } from "../../transport/validation.js";
import { consultationListSchema } from "../schemas/admin.js";

/** The consultation routes; the caller mounts them behind the admin token check. */
export function createAdminConsultationRouter(ctx: GatewayContext): Router {
  const r = Router();
  const reader = new ConsultationReader(ctx.database.db);

  r.get("/consultations", async (req, res) => {
    const q = validate(consultationListSchema, req.query);
    const { rows, total } = await reader.list({
      status: q.status,
      appId: q.app_id,
      vetId: q.vet_id,
      page: q.page,
      perPage: q.perPage,
    });
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
