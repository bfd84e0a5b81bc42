/** The `/vet/v1` paths of `/openapi.json`: the vet console's REST endpoints. */
import { z } from "zod";
import { vetJsonSchema } from "../presenters/schemas.js";
import { loginSchema } from "../routes/vet-auth.js";
import { petHistoryJsonSchema } from "../presenters/pet-history.js";
import { HISTORY_FORBIDDEN, petHistoryQuerySchema } from "../schemas/vet.js";
import { messagesPageSchema, messagesQuerySchema } from "../routes/vet-console.js";
import { errors, jsonBody, successResponse } from "./responses.js";
import * as ex from "./examples.js";
import { tokenData, vetConsoleConfigSchema, vetQueueSchema } from "./path-parts.js";

export function vetPaths() {
  return {
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
  };
}
