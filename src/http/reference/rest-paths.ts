/**
 * Every REST route of the gateway as OpenAPI path items, built from the zod schemas that
 * validate the requests (`routes/**`) and the response schemas beside the presenters.
 * `test/http/reference/router.test.ts` fails when this list and Express's routes differ (the demo
 * routes included: they are documented always, and answer only with `DEMO=1`).
 */
import { z } from "zod";
import { feedbackSchema as feedbackPayload, vetCardSchema } from "../../protocol/payloads.js";
import { ownerTokenSchema } from "../schemas/demo.js";
import {
  appJsonSchema,
  consultationAuditJsonSchema,
  consultationPageJsonSchema,
  deletedUserJsonSchema,
  demoOwnerJsonSchema,
  demoVetJsonSchema,
  emergencyStatsSchema,
  petJsonSchema,
  reportRowJsonSchema,
  statsHistoryJsonSchema,
  statsJsonSchema,
  userJsonSchema,
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
import { appAdminJsonSchema, appWithHealthJsonSchema, webhookLogJsonSchema } from "../presenters/webhooks.js";
import { callActionSchema, endSchema, feedbackSchema, talkToVetSchema } from "../routes/v2/consultations.js";
import * as v2 from "../routes/v2/schemas.js";
import { loginSchema } from "../routes/vet-auth.js";
import { petHistoryJsonSchema } from "../presenters/pet-history.js";
import { HISTORY_FORBIDDEN, petHistoryQuerySchema } from "../schemas/vet.js";
import { messagesPageSchema, messagesQuerySchema } from "../routes/vet-console.js";
import { errors, jsonBody, successResponse } from "./responses.js";
import * as ex from "./examples.js";

const appSettingsJsonSchema = appAdminJsonSchema.extend({
  webhook_secret: z
    .string()
    .optional()
    .meta({ description: "The webhook signing secret (`whsec_…`), only in the answer that made it." }),
});

const appName = {
  path: z.object({ name: z.string().meta({ description: "The app's name (`{name}`).", example: "petcube" }) }),
};
const appAuth = [{ appBasic: [] }];
const adminAuth = [{ adminBearer: [] }];
/** Every authenticated v2 route can answer these, besides its own (503: the database is unreachable). */
const v2Errors = [401, 404, 429, 500, 503];
const bodyErrors = [400, 413, 415, 422];
const ok = (data: z.ZodType, example: unknown, message: string) =>
  successResponse(data, example, { message, rateLimited: true });

const tokenData = z
  .object({ token: z.string(), expires_at: z.string().meta({ description: "ISO-8601" }) })
  .meta({ id: "SocketToken" });
const vetConsoleConfigSchema = z.object({
  twilio_mode: z.enum(["offline", "live"]).meta({ description: "`offline`: chat and video are simulated." }),
  wrapup_ms: z.int(),
  offer_timeout_ms: z.int(),
  vet_max_consults: z
    .int()
    .meta({ description: "`VET_MAX_CONSULTS`: chats a vet holds at once when their `max_chats` is null." }),
  licensing: z.boolean().meta({
    description: "`LICENSING=on`: treatment goes only to vets licensed for the animal's region (PROTOCOL §4).",
  }),
  outcomes: z.array(z.string()).meta({
    description: "`OUTCOMES`: what `consult:feedback`'s `outcome` may be, in the order to list them (PROTOCOL §10).",
  }),
});
const vetQueueSchema = z.object({
  queue_length: z.int().meta({ description: "Requests waiting for a vet (queued or offered)." }),
  vets_available: z.int().meta({ description: "Vets who could take a request now." }),
  oldest_wait_s: z
    .int()
    .nullable()
    .meta({ description: "Seconds the longest-waiting request has waited; null when none waits." }),
});
const profileFile = z.string().meta({ format: "binary", description: "PNG, JPEG or WebP image, at most 5 MiB." });
const petList = z.object({
  list: z.array(petJsonSchema),
  pagination: z.object({ total: z.int(), page: z.int(), perPage: z.int(), last_page: z.int() }).optional(),
});

/** `POST` of a v2 route with a JSON (or form) body. */
function v2Post(
  tag: string,
  summary: string,
  body: z.ZodType,
  bodyExample: unknown,
  data: z.ZodType,
  example: unknown,
  message: string,
  extra: number[] = [],
  messages: Record<number, string> = {},
) {
  return {
    post: {
      tags: [tag],
      summary,
      security: appAuth,
      requestParams: appName,
      requestBody: jsonBody(body, bodyExample),
      responses: {
        "200": ok(data, example, message),
        ...errors([...v2Errors, ...bodyErrors, ...extra].sort(), messages),
      },
    },
  };
}

/** The `paths` of `/openapi.json`. */
export function restPaths() {
  const multipart = (fields: z.ZodType, example: unknown) => ({
    required: true,
    content: {
      "application/json": { schema: fields, example },
      "multipart/form-data": {
        schema: fields,
        encoding: { profile: { contentType: "image/png, image/jpeg, image/webp" } },
      },
    },
  });
  return {
    "/api/v2/{name}/media-url": {
      get: {
        tags: ["v2"],
        summary: "Base URL of pet images (no auth).",
        requestParams: appName,
        responses: {
          "200": ok(
            z.object({ media_url: z.string() }),
            { media_url: "https://gateway.example.com/media" },
            "Media url",
          ),
          ...errors([404, 429, 500, 503], { 404: "App Not Found" }),
        },
      },
    },
    "/api/v2/{name}/register-user": v2Post(
      "users",
      "Register a pet owner (optionally with a first pet).",
      v2.registerUserSchema,
      ex.registerBody,
      z.object({
        user: userJsonSchema,
        twilioToken: z.string(),
        emergency_stats: emergencyStatsSchema,
        socket_token: tokenData,
      }),
      ex.registerData,
      "User registered successfully.",
      [409],
    ),
    "/api/v2/{name}/actions": v2Post(
      "users",
      "Change names, role, subscription status or fund.",
      v2.actionsSchema,
      ex.actionsBody,
      z.literal(true),
      true,
      "End chat successful",
    ),
    "/api/v2/{name}/update-user": v2Post(
      "users",
      'Change an owner\'s profile: names, phone, device type, region (PROTOCOL §4). Absent fields keep their value; "" or null clears last name, phone and region. `pets` is null here (pet/list lists them).',
      v2.updateUserSchema,
      ex.updateUserBody,
      userJsonSchema,
      ex.updatedUser,
      "User updated successfully.",
    ),
    "/api/v2/{name}/delete-user": v2Post(
      "users",
      "Soft-delete a user.",
      v2.deleteUserSchema,
      { email: "sam@example.com", app_id: 1 },
      deletedUserJsonSchema,
      ex.deletedUser,
      "User deleted successfully",
    ),
    "/api/v2/{name}/refresh": {
      get: {
        tags: ["users"],
        summary: "A fresh Twilio token for a user identity (query wins over a JSON body).",
        security: appAuth,
        requestParams: { ...appName, query: v2.refreshSchema },
        responses: {
          "200": ok(z.object({ twilioToken: z.string() }), { twilioToken: ex.jwt }, "User token"),
          ...errors([...v2Errors, 400, 422]),
        },
      },
    },
    "/api/v2/{name}/socket-token": v2Post(
      "users",
      "A token for the `/user` socket namespace.",
      v2.socketTokenSchema,
      { email: "sam@example.com" },
      tokenData,
      ex.socketToken,
      "Socket token",
    ),
    "/api/v2/{name}/pet/add": {
      post: {
        tags: ["pets"],
        summary: "Add a pet (JSON, or multipart with an image `profile`).",
        security: appAuth,
        requestParams: appName,
        requestBody: multipart(v2.petAddFields.extend({ profile: profileFile.optional() }), {
          email: "sam@example.com",
          name: "Rex",
          species: "dog",
          age: "2 years",
          weight: "20 lbs",
        }),
        responses: {
          "200": ok(
            z.object({ email: z.string(), pet: petJsonSchema }),
            { email: "sam@example.com", pet: ex.pet },
            "Pet Added",
          ),
          ...errors([...v2Errors, ...bodyErrors]),
        },
      },
    },
    "/api/v2/{name}/pet/update": {
      post: {
        tags: ["pets"],
        summary: "Update a pet (JSON `pet` object, or multipart `pet[name]`… fields with an image `profile`).",
        security: appAuth,
        requestParams: appName,
        requestBody: multipart(v2.petUpdateSchema.extend({ profile: profileFile.optional() }), {
          email: "sam@example.com",
          pet_id: 12,
          pet: { color: "brown" },
        }),
        responses: {
          "200": ok(z.object({ pet: petJsonSchema }), { pet: ex.pet }, "Pet Updated"),
          ...errors([...v2Errors, ...bodyErrors]),
        },
      },
    },
    "/api/v2/{name}/pet/remove": v2Post(
      "pets",
      "Soft-delete a pet.",
      v2.petRemoveSchema,
      { email: "sam@example.com", pet_id: 12 },
      z.literal(true),
      true,
      "Pet data deleted successfully",
    ),
    "/api/v2/{name}/pet/list": {
      get: {
        tags: ["pets"],
        summary: "A user's pets; `pagination=1` adds `data.pagination`.",
        security: appAuth,
        requestParams: { ...appName, query: v2.petListSchema },
        responses: { "200": ok(petList, { list: [ex.pet] }, "pet list"), ...errors([...v2Errors, 422]) },
      },
    },
    "/api/v2/{name}/report/webappuser/profile": v2Post(
      "reports",
      "The app's users with subscription data; paging in `x-pagination-*` headers.",
      v2.reportSchema,
      { date_from: "2026-11-01", date_to: "2026-11-30", status: "subscribed", pagination: 1, page: 1, perPage: 10 },
      z.array(reportRowJsonSchema),
      [ex.reportRow],
      "Successfully Get User Details.",
    ),
    "/api/v2/{name}/talk-to-vet": v2Post(
      "consultations",
      "Assign an available vet at once (the vet gets `consult:assigned`).",
      talkToVetSchema,
      { email: "sam@example.com", conversation_request: "chat", pet_id: 12 },
      z.object({
        consultation_id: z.string(),
        channel: z.string().nullable(),
        vet: vetCardSchema,
        identity: z.string(),
        stringify_response: z.string().meta({ description: "JSON of `{twilioToken, user, emergency_stats}`." }),
      }),
      ex.talkToVet,
      "User Found Successfully",
      [409, 502],
    ),
    "/api/v2/{name}/end": v2Post(
      "consultations",
      "End a consultation by its channel (idempotent).",
      endSchema,
      { channel_sid: ex.channel },
      z.literal(true),
      true,
      "End chat successful",
    ),
    "/api/v2/{name}/feedback": v2Post(
      "consultations",
      "The vet's feedback on a consultation; none yet → 404.",
      feedbackSchema,
      { type: "chat", channel_sid: ex.channel },
      feedbackPayload.omit({ consultation_id: true }),
      ex.feedback,
      "Vet Feedback",
      [],
      { 404: "Feedback not found" },
    ),
    "/api/v2/{name}/video-call-action": v2Post(
      "consultations",
      "Relay the owner's answer to a video call to the vet (`call:status`).",
      callActionSchema,
      { status: "accepted", room_sid: ex.room },
      z.literal(true),
      true,
      "Call status updated",
      [],
      { 404: "Room not found" },
    ),
    "/vet/v1/login": {
      post: {
        tags: ["vet"],
        summary: "Vet login: a token for the `/vet` socket namespace.",
        requestBody: jsonBody(loginSchema, { email: "dr.kim@example.com", password: "<the vet's password>" }),
        responses: {
          "200": successResponse(
            z.object({ token: z.string(), expires_at: z.string(), vet: vetJsonSchema }),
            { ...ex.socketToken, vet: ex.vet },
            { message: "Login successful." },
          ),
          ...errors([400, 401, 403, 413, 415, 422, 429, 500, 503]),
        },
      },
    },
    "/vet/v1/config": {
      get: {
        tags: ["vet"],
        summary: "What the vet console needs to know about this gateway (public, nothing secret).",
        responses: {
          "200": successResponse(vetConsoleConfigSchema, {
            twilio_mode: "offline",
            wrapup_ms: 60000,
            offer_timeout_ms: 30000,
            vet_max_consults: 1,
            licensing: false,
            outcomes: ["resolved", "follow_up", "clinic_visit", "emergency_referral", "no_show", "other"],
          }),
          ...errors([500]),
        },
      },
    },
    "/vet/v1/queue": {
      get: {
        tags: ["vet"],
        summary:
          "Queue length, available vets and the oldest request's wait, for the console (no `/vet` event carries them).",
        description:
          "The queue counted is at most a second old (one read a second per gateway node, shared by every console); the wait is counted at each call.",
        security: [{ vetBearer: [] }],
        responses: {
          "200": successResponse(vetQueueSchema, { queue_length: 3, vets_available: 2, oldest_wait_s: 95 }),
          ...errors([401, 500]),
        },
      },
    },
    "/vet/v1/pets/{pet_id}/history": {
      get: {
        tags: ["vet"],
        summary: "A pet's past consultations in its app, newest first, paged (PROTOCOL §10).",
        description:
          "Only for a vet who holds, held, or is offered a consultation about the pet; any other pet, an unknown one included, answers 403. Past: ended, with a vet (requests cancelled or expired before a vet took them are not listed, nor is any open consultation, the vet's current one included). Each entry: start `date`, `channel` (`chat` or `video`), the vet who held it last, `duration_s`, and the feedback's `outcome`, `recommendation` and `reason` (null without feedback).",
        security: [{ vetBearer: [] }],
        requestParams: {
          path: z.object({ pet_id: z.string().meta({ description: "The pet's id.", example: "12" }) }),
          query: petHistoryQuerySchema,
        },
        responses: {
          "200": successResponse(petHistoryJsonSchema, ex.petHistory, { message: "Pet history" }),
          ...errors([401, 403, 404, 422, 500, 503], {
            403: HISTORY_FORBIDDEN,
            404: "Pet not found",
            422: "The page must be at least 1.",
          }),
        },
      },
    },
    "/vet/v1/consultations/{id}/messages": {
      get: {
        tags: ["vet"],
        summary:
          "The chat of a consultation the vet holds or held (offline Twilio mode, where the gateway carries the chat): newest page first, each page oldest first.",
        description:
          "Without `before`: the newest `limit` messages. With `before` (a message `id`, usually the previous page's `next_before`): the `limit` messages stored just before it. `next_before` is null once the first message is reached. A vet who never held the consultation gets 404, as for an unknown one. In live mode the chat is on Twilio and the list is empty.",
        security: [{ vetBearer: [] }],
        requestParams: {
          path: z.object({
            id: z.string().meta({ description: "The consultation id (a UUID).", example: ex.consultation.id }),
          }),
          query: messagesQuerySchema,
        },
        responses: {
          "200": successResponse(messagesPageSchema, {
            messages: [
              {
                id: "41",
                author: "owner",
                author_name: "Sam Lee",
                text: "She has been limping since this morning.",
                created_at: "2026-12-01T14:05:00.000Z",
              },
              {
                id: "42",
                author: "vet",
                author_name: "Ana Kim",
                text: "Is she putting any weight on the leg?",
                created_at: "2026-12-01T14:05:20.000Z",
              },
            ],
            next_before: "41",
          }),
          ...errors([401, 404, 422, 500, 503], {
            404: "Consultation not found",
            422: "The limit must not be greater than 100.",
          }),
        },
      },
    },
    "/vet/v1/token": {
      post: {
        tags: ["vet"],
        summary:
          "A fresh vet socket token for a still valid one (the console never keeps the password). Disabled, removed and revoked vets get 401, and so does a session older than `VET_SESSION_MAX_S` from its password login (log in again).",
        security: [{ vetBearer: [] }],
        responses: { "200": successResponse(tokenData, ex.socketToken), ...errors([401, 500]) },
      },
    },
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
    "/demo/v1/owners": {
      get: {
        tags: ["demo"],
        summary: "Demo mode only (`DEMO=1`, else 404): the demo owners and their pets.",
        responses: {
          "200": successResponse(z.array(demoOwnerJsonSchema), [ex.demoOwner], { message: "Demo owners" }),
          ...errors([404, 500, 503], { 404: "Not Found" }),
        },
      },
    },
    "/demo/v1/vets": {
      get: {
        tags: ["demo"],
        summary: "Demo mode only (`DEMO=1`, else 404): the demo vets an owner may ask for.",
        responses: {
          "200": successResponse(
            z.array(demoVetJsonSchema),
            [
              {
                email: "vet1@demo.test",
                first_name: "Maya",
                last_name: "Patel",
                species: ["dog", "cat"],
                languages: ["en", "es"],
              },
            ],
            { message: "Demo vets" },
          ),
          ...errors([404, 500], { 404: "Not Found" }),
        },
      },
    },
    "/demo/v1/owner-token": {
      post: {
        tags: ["demo"],
        summary:
          "Demo mode only (`DEMO=1`, else 404): a `/user` socket token for a demo owner (free for the asking, hence demo only).",
        requestBody: jsonBody(ownerTokenSchema, { email: "alice@demo.test" }),
        responses: {
          "200": successResponse(tokenData, ex.socketToken, { message: "Socket token" }),
          ...errors([400, 404, 413, 415, 422, 500, 503], {
            404: "User not found.",
            422: "The email field must be a valid email address.",
          }),
        },
      },
    },
    "/healthz": {
      get: {
        tags: ["ops"],
        summary: "The process is up.",
        responses: {
          "200": successResponse(z.object({ status: z.literal("ok"), node: z.string() }), {
            status: "ok",
            node: "node-1",
          }),
        },
      },
    },
    "/readyz": {
      get: {
        tags: ["ops"],
        summary: "The database and Redis answer within 2 s.",
        responses: {
          "200": successResponse(readyChecks, { database: "ok", redis: "disabled" }, { message: "Ready" }),
          "503": readyDown,
        },
      },
    },
  };
}

const readyChecks = z.object({ database: z.enum(["ok", "down"]), redis: z.enum(["ok", "down", "disabled"]) });
/** `/readyz` is the one error that carries data: which check is down. */
const readyDown = {
  description: "Not ready: `data` says which dependency is down.",
  content: {
    "application/json": {
      schema: z.object({
        success: z.literal(false),
        status_code: z.literal(503),
        message: z.array(z.string()),
        data: readyChecks,
      }),
      example: { success: false, status_code: 503, message: ["Not Ready"], data: { database: "down", redis: "ok" } },
    },
  },
};
