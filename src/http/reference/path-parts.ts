/** Pieces the REST reference's path modules share: security schemes, error lists, schemas. */
import { z } from "zod";
import { petJsonSchema } from "../presenters/schemas.js";
import { appAdminJsonSchema } from "../presenters/webhooks.js";
import { successResponse } from "./responses.js";

export const appSettingsJsonSchema = appAdminJsonSchema.extend({
  webhook_secret: z
    .string()
    .optional()
    .meta({ description: "The webhook signing secret (`whsec_…`), only in the answer that made it." }),
});

export const appName = {
  path: z.object({ name: z.string().meta({ description: "The app's name (`{name}`).", example: "petcube" }) }),
};
export const appAuth = [{ appBasic: [] }];
export const adminAuth = [{ adminBearer: [] }];
/** Every authenticated v2 route can answer these, besides its own (503: the database is unreachable). */
export const v2Errors = [401, 404, 429, 500, 503];
export const bodyErrors = [400, 413, 415, 422];
export const ok = (data: z.ZodType, example: unknown, message: string) =>
  successResponse(data, example, { message, rateLimited: true });

export const tokenData = z
  .object({ token: z.string(), expires_at: z.string().meta({ description: "ISO-8601" }) })
  .meta({ id: "SocketToken" });
export const vetConsoleConfigSchema = z.object({
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
export const vetQueueSchema = z.object({
  queue_length: z.int().meta({ description: "Requests waiting for a vet (queued or offered)." }),
  vets_available: z.int().meta({ description: "Vets who could take a request now." }),
  oldest_wait_s: z
    .int()
    .nullable()
    .meta({ description: "Seconds the longest-waiting request has waited; null when none waits." }),
});
export const profileFile = z
  .string()
  .meta({ format: "binary", description: "PNG, JPEG or WebP image, at most 5 MiB." });
export const petList = z.object({
  list: z.array(petJsonSchema),
  pagination: z.object({ total: z.int(), page: z.int(), perPage: z.int(), last_page: z.int() }).optional(),
});
