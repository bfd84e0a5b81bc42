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
  deletedUserJsonSchema,
  demoOwnerJsonSchema,
  demoVetJsonSchema,
  emergencyStatsSchema,
  petJsonSchema,
  reportRowJsonSchema,
  userJsonSchema,
} from "../presenters/schemas.js";
import { callActionSchema, endSchema, feedbackSchema, talkToVetSchema } from "../routes/v2/consultations.js";
import * as v2 from "../routes/v2/schemas.js";
import { errors, jsonBody, successResponse } from "./responses.js";
import * as ex from "./examples.js";
import { appName, appAuth, v2Errors, bodyErrors, ok, tokenData, profileFile, petList } from "./path-parts.js";
import { adminPaths } from "./admin-paths.js";
import { vetPaths } from "./vet-paths.js";

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
    ...vetPaths(),
    ...adminPaths(),
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
