/**
 * Request schemas of `/admin/v1`, without Express: the admin routes, the OpenAPI reference
 * and the operator CLI (`cli/admin.ts`) validate with the same ones. Messages follow
 * `transport/validation.ts` (`:attribute` becomes the field name).
 */
import { z } from "zod";
import { isIsoRegion } from "../../lib/regions.js";
import { languageCodeSchema } from "../../protocol/languages.js";
import { regionSchema } from "../../protocol/payloads.js";

/** At most this many species or languages per vet. */
export const MAX_VET_SKILL_ENTRIES = 20;
/** At most this many licences per vet (a vet licensed in every US state holds 50). */
export const MAX_VET_LICENSES = 100;
const INVALID_LICENSE = "The :attribute must hold ISO 3166 country or subdivision codes, such as GB or US-CA.";
/** `max_chats` bounds (null = `VET_MAX_CONSULTS`). */
export const MAX_CHATS_LIMIT = 10;

const dedupe = <T>(list: T[]): T[] => [...new Set(list)];
const tooMany = { error: `The :attribute must not have more than ${String(MAX_VET_SKILL_ENTRIES)} items.` };

/**
 * The vet's routing attributes (PROTOCOL §4 skills), as `POST /admin/v1/vets`, `PATCH
 * /admin/v1/vets/{id}` and the CLI take them. Species are trimmed and lower-cased; both lists
 * lose duplicates.
 */
export const vetAttributeFields = {
  species: z
    .array(
      z
        .string()
        .trim()
        .toLowerCase()
        .regex(/^[a-z][a-z -]{0,39}$/, {
          error: "The :attribute must be a lower-case species name (letters, spaces, hyphens; at most 40).",
        }),
    )
    .max(MAX_VET_SKILL_ENTRIES, tooMany)
    .overwrite(dedupe)
    .optional()
    .meta({
      description: 'Species the vet treats, e.g. `["dog", "cat"]`; empty = every species (default).',
      example: ["dog", "cat"],
    }),
  languages: z
    .array(languageCodeSchema)
    .min(1, { error: "The :attribute must have at least 1 item." })
    .max(MAX_VET_SKILL_ENTRIES, tooMany)
    .overwrite(dedupe)
    .optional()
    .meta({ description: 'ISO 639-1 codes the vet speaks; default `["en"]`.', example: ["en", "es"] }),
  max_chats: z
    .int({ error: "The :attribute must be an integer." })
    .min(1, { error: "The :attribute must be at least 1." })
    .max(MAX_CHATS_LIMIT, { error: `The :attribute must not be greater than ${String(MAX_CHATS_LIMIT)}.` })
    .nullable()
    .optional()
    .meta({
      description: `Chat consultations held at once, 1–${String(MAX_CHATS_LIMIT)}; null = \`VET_MAX_CONSULTS\` (default).`,
    }),
  licenses: z
    .array(regionSchema.refine(isIsoRegion, { error: INVALID_LICENSE }))
    .max(MAX_VET_LICENSES, { error: `The :attribute must not have more than ${String(MAX_VET_LICENSES)} items.` })
    .overwrite(dedupe)
    .optional()
    .meta({
      description:
        "Where the vet may treat (PROTOCOL §4): ISO 3166-2 codes (`US-CA`) or country codes (`GB`, covering every `GB-*`), any case; empty = nowhere (default).",
      example: ["US-CA", "GB"],
    }),
};

/** A vet's password, as `POST /admin/v1/vets`, `PATCH /admin/v1/vets/{id}` and the CLI take it. */
export const vetPasswordSchema = z.string().min(8).max(256);

/** Body of `PATCH /admin/v1/vets/{id}`: at least one field. */
export const vetPatchSchema = z
  .strictObject({
    active: z.boolean({ error: "The :attribute field must be true or false." }).optional(),
    password: vetPasswordSchema
      .optional()
      .meta({ description: "A new password: every session of the vet is revoked (PROTOCOL §7)." }),
    ...vetAttributeFields,
  })
  .refine((b) => Object.values(b).some((v) => v !== undefined), {
    error: "At least one of active, password, species, languages, max_chats, licenses is required.",
  });

/** App names are the `{name}` path segment of `/api/v2/{name}`: lowercase, URL-safe. */
export const APP_NAME_RE = /^[a-z0-9][a-z0-9_-]{1,62}$/;

// validate() words these issues ("The name format is invalid.", "… must be a valid url.").
const httpUrl = () =>
  z
    .url({ protocol: /^https?$/ })
    .max(2048)
    .nullish();

/** A webhook URL as the admin API and the CLI take it (`http(s)`; the policy checks the rest). */
export const webhookUrlSchema = z.url({ protocol: /^https?$/ }).max(2048);

/** Body of `POST /admin/v1/apps` (also the CLI's `create-app`). */
export const createAppSchema = z.object({
  name: z.string().regex(APP_NAME_RE),
  secret: z.string().min(16).max(256),
  media_url: httpUrl(),
  webhook_url: webhookUrlSchema
    .nullish()
    .meta({ description: "Where the app's webhooks go (PROTOCOL §9); the answer then shows `webhook_secret` once." }),
});

/** Body of `PATCH /admin/v1/apps/{id}`: at least one field; a null `webhook_url` removes it. */
export const appPatchSchema = z
  .strictObject({
    media_url: z
      .url({ protocol: /^https?$/ })
      .max(2048)
      .nullable()
      .optional(),
    webhook_url: webhookUrlSchema.nullable().optional(),
  })
  .refine((b) => b.media_url !== undefined || b.webhook_url !== undefined, {
    error: "At least one of media_url, webhook_url is required.",
  });

/** Body of `POST /admin/v1/vets` (also the CLI's `create-vet`). */
export const createVetSchema = z.object({
  email: z.email().max(254),
  password: vetPasswordSchema,
  first_name: z.string().trim().min(1).max(100),
  last_name: z.string().trim().min(1).max(100),
  profile_image: httpUrl(),
  ...vetAttributeFields,
});

const STATUSES = ["queued", "offered", "active", "ended", "cancelled", "expired"] as const;
const PG_INT_MAX = 2_147_483_647;

/** An optional integer query parameter (a blank one is absent), with Laravel-style messages. */
export const queryInt = (min: number, max = PG_INT_MAX) =>
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

const date = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, { error: "The :attribute must be a date (YYYY-MM-DD)." })
  .refine(
    (d) => !Number.isNaN(Date.parse(`${d}T00:00:00Z`)) && new Date(`${d}T00:00:00Z`).toISOString().startsWith(d),
    {
      error: "The :attribute must be a date (YYYY-MM-DD).",
    },
  );
const id = z.coerce
  .number({ error: "The :attribute must be an integer." })
  .int({ error: "The :attribute must be an integer." })
  .min(1)
  .max(2_147_483_647);

/** Query of `GET /admin/v1/stats/summary`. */
export const summaryQuerySchema = z
  .strictObject({
    from: date
      .optional()
      .meta({ description: "First day (UTC), inclusive; default 29 days before `to`.", example: "2026-11-01" }),
    to: date.optional().meta({ description: "Last day (UTC), inclusive; default today.", example: "2026-11-30" }),
    app_id: id.optional(),
    vet_id: id.optional(),
  })
  .meta({ id: "SummaryQuery" });
