/** The `/admin/v1` paths of `/openapi.json`: operators' endpoints. */
import { z } from "zod";
import {
  appJsonSchema,
  consultationAuditJsonSchema,
  consultationPageJsonSchema,
  statsHistoryJsonSchema,
  statsJsonSchema,
  vetJsonSchema,
  vetWithActiveJsonSchema,
} from "../presenters/schemas.js";
import {
  appPatchSchema,
  consultationListSchema,
  createAppSchema,
  createVetSchema,
  summaryQuerySchema,
  vetPatchSchema,
} from "../schemas/admin.js";
import { summaryJsonSchema } from "../presenters/stats-summary.js";
import { appWithHealthJsonSchema, webhookLogJsonSchema } from "../presenters/webhooks.js";
import { errors, jsonBody, successResponse } from "./responses.js";
import * as ex from "./examples.js";
import { appSettingsJsonSchema, adminAuth } from "./path-parts.js";

export function adminPaths() {
  return {
    "/admin/v1/apps": {
      post: {
        tags: ["admin"],
        summary: "Create an app (tenant).",
        security: adminAuth,
        requestBody: jsonBody(createAppSchema, {
          name: "petcube",
          secret: "<the app secret, 16+ characters>",
          webhook_url: "https://partner.example.com/hooks/vets",
        }),
        responses: {
          "201": successResponse(
            appSettingsJsonSchema,
            { ...ex.appWithWebhook, webhook_secret: "<whsec_…, shown only here>" },
            { status: 201, message: "App created. The webhook secret is shown only once." },
          ),
          ...errors([400, 401, 409, 413, 415, 422, 429, 500, 503], {
            409: "The name has already been taken.",
            422: "The webhook url must use https.",
          }),
        },
      },
      get: {
        tags: ["admin"],
        summary:
          "Every app with its webhook URL and, where it has one, the endpoint's health (last success, failures in a row, oldest pending).",
        security: adminAuth,
        responses: {
          "200": successResponse(z.array(appWithHealthJsonSchema), [
            { ...ex.appWithWebhook, webhook_health: ex.endpointHealth },
          ]),
          ...errors([401, 429, 500, 503]),
        },
      },
    },
    "/admin/v1/apps/{id}": {
      patch: {
        tags: ["admin"],
        summary:
          "Change an app's `media_url` and/or `webhook_url` (null removes it). Setting a webhook URL on an app that had none makes its signing secret, shown in this answer only (`webhook_secret`); a changed URL keeps the secret.",
        security: adminAuth,
        requestParams: {
          path: z.object({ id: z.string().meta({ description: "The app's numeric id.", example: "1" }) }),
        },
        requestBody: jsonBody(appPatchSchema, { webhook_url: "https://partner.example.com/hooks/vets" }),
        responses: {
          "200": successResponse(
            appSettingsJsonSchema,
            { ...ex.appWithWebhook, webhook_secret: "<whsec_…, shown only here>" },
            { message: "App updated. The webhook secret is shown only once." },
          ),
          ...errors([400, 401, 404, 413, 415, 422, 429, 500, 503], {
            404: "App not found",
            422: "The webhook url must not point to a private, loopback or link-local address.",
          }),
        },
      },
    },
    "/admin/v1/apps/{id}/webhook-secret": {
      post: {
        tags: ["admin"],
        summary:
          "Rotate an app's webhook signing secret: a new one, shown only in this answer; deliveries are signed with it from now on (within 5 s on every node).",
        security: adminAuth,
        requestParams: {
          path: z.object({ id: z.string().meta({ description: "The app's numeric id.", example: "1" }) }),
        },
        responses: {
          "200": successResponse(
            appSettingsJsonSchema,
            { ...ex.appWithWebhook, webhook_secret: "<whsec_…, shown only here>" },
            { message: "Webhook secret rotated. It is shown only once." },
          ),
          ...errors([401, 404, 422, 429, 500, 503], { 404: "App not found", 422: "The app has no webhook url." }),
        },
      },
    },
    "/admin/v1/apps/{id}/webhooks": {
      get: {
        tags: ["admin"],
        summary:
          "An app's webhook endpoint health and its last 100 deliveries, newest first, with status, attempts and last error.",
        security: adminAuth,
        requestParams: {
          path: z.object({ id: z.string().meta({ description: "The app's numeric id.", example: "1" }) }),
        },
        responses: {
          "200": successResponse(webhookLogJsonSchema, ex.webhookLog),
          ...errors([401, 404, 429, 500, 503], { 404: "App not found" }),
        },
      },
    },
    "/admin/v1/webhooks/{delivery_id}/retry": {
      post: {
        tags: ["admin"],
        summary:
          "Send one event again, now (delivered or failed ones too), with its original id; it is retried for another retry window if the receiver still fails.",
        security: adminAuth,
        requestParams: {
          path: z.object({
            delivery_id: z.string().meta({ description: "The delivery id from the log.", example: "42" }),
          }),
        },
        responses: {
          "200": successResponse(z.literal(true), true, { message: "Delivery queued again." }),
          ...errors([401, 404, 429, 500, 503], { 404: "Delivery not found" }),
        },
      },
    },
    "/admin/v1/apps/{id}/secret": {
      post: {
        tags: ["admin"],
        summary:
          "Rotate an app's secret: a new random secret, shown only in this answer. The old one stops working at once on this node and within 5 s on the others.",
        security: adminAuth,
        requestParams: {
          path: z.object({ id: z.string().meta({ description: "The app's numeric id.", example: "1" }) }),
        },
        responses: {
          "200": successResponse(
            appJsonSchema.extend({
              secret: z
                .string()
                .meta({ description: "The new secret (43 characters); not stored in plain text, not shown again." }),
            }),
            { id: 1, name: "petcube", media_url: null, secret: "<the new secret, 43 characters>" },
            { message: "App secret rotated. It is shown only once." },
          ),
          ...errors([401, 404, 429, 500, 503], { 404: "App not found" }),
        },
      },
    },
    "/admin/v1/vets": {
      post: {
        tags: ["admin"],
        summary: "Create a vet, optionally with routing skills (`species`, `languages`, `max_chats`, `licenses`).",
        security: adminAuth,
        requestBody: jsonBody(createVetSchema, {
          email: "dr.kim@example.com",
          password: "<the vet's password>",
          first_name: "Ana",
          last_name: "Kim",
          species: ["dog", "cat"],
          languages: ["en", "es"],
          max_chats: 2,
          licenses: ["US-CA"],
        }),
        responses: {
          "201": successResponse(vetJsonSchema, ex.vet, { status: 201, message: "Vet created." }),
          ...errors([400, 401, 409, 413, 415, 422, 429, 500, 503], { 409: "The email has already been taken." }),
        },
      },
    },
    "/admin/v1/stats": {
      get: {
        tags: ["admin"],
        summary: "Live counts: queue length, vets by status, open consultations.",
        security: adminAuth,
        responses: {
          "200": successResponse(statsJsonSchema, ex.stats),
          ...errors([401, 429, 500, 503]),
        },
      },
    },
    "/admin/v1/stats/summary": {
      get: {
        tags: ["admin"],
        summary:
          "Requests, matches, abandonment, waits and handling times over days (UTC, counted by the day of the request), in all and per vet, app and day, from the database.",
        security: adminAuth,
        requestParams: { query: summaryQuerySchema },
        responses: {
          "200": successResponse(summaryJsonSchema, ex.statsSummary),
          ...errors([401, 422, 429, 500, 503], { 422: "The from must be a date before or equal to to." }),
        },
      },
    },
    "/admin/v1/stats/history": {
      get: {
        tags: ["admin"],
        summary:
          "The live counts and match latency every 10 s over the last hour, oldest first (the same on every node).",
        security: adminAuth,
        responses: { "200": successResponse(statsHistoryJsonSchema, ex.statsHistory), ...errors([401, 429, 500, 503]) },
      },
    },
    "/admin/v1/consultations": {
      get: {
        tags: ["admin"],
        summary: "Consultations from the database, newest first, filtered and paged; unknown parameters → 422.",
        security: adminAuth,
        requestParams: { query: consultationListSchema },
        responses: {
          "200": successResponse(consultationPageJsonSchema, {
            list: [ex.consultation],
            pagination: { total: 1, page: 1, perPage: 20, last_page: 1 },
          }),
          ...errors([401, 422, 429, 500, 503], { 422: "The selected status is invalid." }),
        },
      },
    },
    "/admin/v1/consultations/{id}": {
      get: {
        tags: ["admin"],
        summary:
          "One consultation with every transition, offer and its feedback (the ledger is written just behind the hot path).",
        security: adminAuth,
        requestParams: {
          path: z.object({
            id: z.string().meta({ description: "The consultation id (a UUID).", example: ex.consultation.id }),
          }),
        },
        responses: {
          "200": successResponse(consultationAuditJsonSchema, ex.consultationAudit),
          ...errors([401, 404, 429, 500, 503], { 404: "Consultation not found" }),
        },
      },
    },
    "/admin/v1/vets/{id}": {
      patch: {
        tags: ["admin"],
        summary:
          "Disable (`active: false`: sockets closed on every node, offers move on, login and tokens refused) or restore a vet, set a new `password`, and/or set its routing skills (`species`, `languages`, `max_chats`, `licenses`; routing uses them at once). Disabling, enabling and a new password revoke every token issued before (PROTOCOL §7). At least one field.",
        security: adminAuth,
        requestParams: {
          path: z.object({ id: z.string().meta({ description: "The vet's numeric id.", example: "7" }) }),
        },
        requestBody: jsonBody(vetPatchSchema, { active: false }),
        responses: {
          "200": successResponse(vetWithActiveJsonSchema, { ...ex.vet, active: false }, { message: "Vet disabled." }),
          ...errors([400, 401, 404, 413, 415, 422, 429, 500, 503], {
            404: "Vet not found",
            422: "The selected languages.0 is invalid.",
          }),
        },
      },
    },
  };
}
