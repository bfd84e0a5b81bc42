/**
 * zod schemas of what the REST API answers (the `data` of each success envelope). The
 * presenters beside this file return exactly these types, so a presenter that drifts from
 * its schema does not compile; `/openapi.json` is generated from the same schemas.
 */
import { z } from "zod";

const dateTime = z
  .string()
  .nullable()
  .meta({ description: "UTC `YYYY-MM-DD HH:mm:ss`", example: "2026-12-01 14:05:00" });
const role = z.string().meta({ description: "`users` or `protect_users`" });
const subscription = z.string().meta({ description: "`subscribed` or `cancelled`" });

export const petJsonSchema = z
  .object({
    id: z.int(),
    user_id: z.int(),
    app_id: z.int(),
    pet_id: z.int().nullable(),
    name: z.string(),
    species: z.string().nullable(),
    age: z.string().nullable(),
    breed: z.string().nullable(),
    color: z.string().nullable(),
    weight: z.string().nullable(),
    sex: z.string().nullable(),
    sex_type: z.string().nullable(),
    profile: z.string().nullable().meta({ description: "Public URL of the pet's image." }),
    created_at: dateTime,
    updated_at: dateTime,
    deleted_at: dateTime,
    veterians: z.null(),
    medicals: z.null(),
    insurnaces: z.null(),
    pet_veterians: z.array(z.never()),
    pet_medicals: z.array(z.never()),
    pet_insurnaces: z.array(z.never()),
  })
  .meta({ id: "Pet" });

export const userStatusJsonSchema = z
  .object({
    id: z.int(),
    user_id: z.int(),
    app_id: z.int(),
    status: z.string(),
    type: z.string(),
    created_at: dateTime,
    updated_at: dateTime,
    date_time: dateTime,
  })
  .meta({ id: "UserStatus" });

export const emergencyStatsSchema = z
  .object({
    user_type: z.string(),
    trial_period_count: z.int(),
    trial_period_start_date: dateTime,
    trial_period_end_date: dateTime,
    remaining_trial_period_days: z.int(),
    last_emergency_activation_date: dateTime,
    next_emergency_activation_date: dateTime,
    emergency_fund: z.int(),
    can_activate_Emergency: z.boolean(),
  })
  .meta({ id: "EmergencyStats" });

const regionField = z.string().nullable().meta({
  description: "Where the owner's animals are (ISO 3166-2 or country code; PROTOCOL §4), or null.",
  example: "US-CA",
});

/** The `user` of register-user. */
export const userJsonSchema = z
  .object({
    app_id: z.int(),
    email: z.string(),
    dev_type: z.string().nullable(),
    last_name: z.string().nullable(),
    first_name: z.string(),
    phone_no: z.string().nullable(),
    your_registration_date: dateTime,
    emergency_fund: z.int(),
    updated_at: dateTime,
    created_at: dateTime,
    id: z.int(),
    role,
    status: subscription,
    trial_period: z.int(),
    can_use_emergency_funds: z.boolean(),
    app: z.array(z.string()),
    activedays: z.int(),
    pets: petJsonSchema
      .nullable()
      .meta({ description: "The pet registered with the user, or null (a single object, as in the reference)." }),
    user_status: z.array(userStatusJsonSchema),
    region: regionField,
  })
  .meta({ id: "User" });

const userRecordShape = {
  id: z.int(),
  app_id: z.int(),
  email: z.string(),
  dev_type: z.string().nullable(),
  twilio_user_sid: z.string().nullable(),
  last_name: z.string().nullable(),
  first_name: z.string(),
  phone_no: z.string().nullable(),
  emergency_fund: z.int(),
  your_registration_date: dateTime,
  created_at: dateTime,
  updated_at: dateTime,
  deleted_at: dateTime,
  region: regionField,
};

/** The `data` of delete-user. */
export const deletedUserJsonSchema = z
  .object({
    ...userRecordShape,
    next_emergency_activation_date: dateTime,
    app: z.array(z.string()),
    activedays: z.int(),
    user_status_latest: userStatusJsonSchema.nullable(),
  })
  .meta({ id: "DeletedUser" });

/** One row of report/webappuser/profile. */
export const reportRowJsonSchema = z
  .object({
    first_name: z.string(),
    last_name: z.string().nullable(),
    email: z.string(),
    phone_no: z.string().nullable(),
    your_registration_date: dateTime,
    emergency_fund: z.int(),
    next_emergency_activation_date: dateTime,
    activedays: z.int(),
    protect_type: role,
    package_type: z.string(),
    subscription_status: subscription,
  })
  .meta({ id: "ReportRow" });

/** `user` and `emergency_stats` inside talk-to-vet's `stringify_response` (a JSON string). */
export const talkToVetUserSchema = z.object({
  user: z.object({
    ...userRecordShape,
    next_emergency_activation_date: dateTime,
    trial_period: z.int(),
    can_use_emergency_funds: z.boolean(),
    app: z.array(z.string()),
    activedays: z.int(),
    emergency_lastest_protect: z.record(z.string(), z.unknown()).nullable(),
  }),
  emergency_stats: emergencyStatsSchema,
});

/** An app as the admin API shows it (never the secret or its hash). */
export const appJsonSchema = z
  .object({ id: z.int(), name: z.string(), media_url: z.string().nullable() })
  .meta({ id: "App", example: { id: 1, name: "petcube", media_url: null } });

/** A vet as the admin and login APIs show it (never the password hash), with its Twilio identity. */
export const vetJsonSchema = z
  .object({
    id: z.int(),
    email: z.string(),
    first_name: z.string(),
    last_name: z.string(),
    profile_image: z.string().nullable(),
    identity: z.string().meta({ example: "app-1_vet-7" }),
    species: z
      .array(z.string())
      .meta({ description: "Lower-case species the vet treats; empty = every species.", example: ["dog", "cat"] }),
    languages: z.array(z.string()).meta({ description: "ISO 639-1 codes the vet speaks.", example: ["en", "es"] }),
    max_chats: z.int().nullable().meta({ description: "Chat consultations held at once; null = `VET_MAX_CONSULTS`." }),
    licenses: z.array(z.string()).meta({
      description: "Where the vet may treat (PROTOCOL §4): ISO 3166-2 or country codes (`GB` covers every `GB-*`).",
      example: ["US-CA", "GB"],
    }),
  })
  .meta({ id: "Vet" });

const isoInstant = z.string().meta({ description: "ISO-8601 UTC", example: "2026-12-01T14:05:00.000Z" });
const isoOrNull = isoInstant.nullable();

/** A vet after `PATCH /admin/v1/vets/{id}`: the vet with its `active` flag. */
export const vetWithActiveJsonSchema = vetJsonSchema.extend({ active: z.boolean() }).meta({ id: "VetWithActive" });

/** A consultation's stored columns (`GET /admin/v1/consultations` list items). */
export const consultationJsonSchema = z
  .object({
    id: z.string(),
    app_id: z.int(),
    user_id: z.int(),
    pet_id: z.int().nullable(),
    type: z.string().meta({ description: "`chat` or `video`" }),
    source: z.string().meta({ description: "`socket` (consult:request) or `rest` (talk-to-vet)" }),
    status: z.string().meta({ description: "`queued`, `offered`, `active`, `ended`, `cancelled` or `expired`" }),
    requested_vet_id: z.int().nullable(),
    vet_id: z.int().nullable(),
    channel_sid: z.string().nullable(),
    room_sid: z.string().nullable(),
    ended_by: z.string().nullable(),
    end_reason: z.string().nullable(),
    language: z.string().nullable().meta({ description: "ISO 639-1 code the owner asked for (PROTOCOL §4), or null." }),
    emergency: z.boolean().meta({ description: "The owner asked for an emergency consultation." }),
    species: z.string().nullable().meta({ description: "The pet's species (lower case) at request time, or null." }),
    priority: z.string().meta({ description: "Priority class at request time: `emergency`, `protected` or `normal`." }),
    region: z
      .string()
      .nullable()
      .meta({ description: "Where the animal is (ISO 3166-2 or country code), or null.", example: "US-CA" }),
    care: z.string().meta({ description: "`treatment` or `advice` (general advice only; PROTOCOL §4)." }),
    advice_fallback: z.boolean().meta({
      description: "The treatment request may become advice when no licensed vet is found in `LICENSE_WAIT_MS`.",
    }),
    created_at: isoOrNull,
    accepted_at: isoOrNull,
    ended_at: isoOrNull,
    outcome: z.string().nullable().meta({
      description:
        "The feedback's outcome (one of `OUTCOMES`, PROTOCOL §10), or null: no feedback yet, or feedback without one.",
    }),
  })
  .meta({ id: "Consultation" });

/** `data` of `GET /admin/v1/consultations/{id}`: the columns plus history, offers and feedback. */
export const consultationAuditJsonSchema = consultationJsonSchema
  .extend({
    events: z.array(
      z.object({
        from_status: z.string().nullable(),
        to_status: z.string(),
        at: isoOrNull,
        detail: z.unknown().meta({ description: "A note on the transition (e.g. a call status), or null." }),
      }),
    ),
    offers: z.array(
      z.object({
        vet_id: z.int(),
        offered_at: isoOrNull,
        expires_at: isoOrNull,
        outcome: z
          .string()
          .nullable()
          .meta({ description: "`accepted`, `declined`, `timeout`, `disconnected`, … or null while open" }),
        resolved_at: isoOrNull,
      }),
    ),
    feedback: z
      .object({
        vet_id: z.int(),
        recommendation: z.string(),
        reason: z.string(),
        outcome: z
          .string()
          .nullable()
          .meta({ description: "One of `OUTCOMES` (PROTOCOL §10), or null for feedback given without one." }),
        created_at: isoOrNull,
        updated_at: isoOrNull,
      })
      .nullable(),
    vets: z
      .array(
        z.object({
          vet_id: z.int(),
          joined_at: isoOrNull,
          left_at: isoOrNull.meta({ description: "Null while the vet still holds it." }),
        }),
      )
      .meta({
        description:
          "Every vet who held the consultation and when, oldest first: hand-overs and referrals (PROTOCOL §10).",
      }),
  })
  .meta({ id: "ConsultationAudit" });

/** `data` of `GET /admin/v1/consultations`. */
export const consultationPageJsonSchema = z.object({
  list: z.array(consultationJsonSchema),
  pagination: z.object({ total: z.int(), page: z.int(), perPage: z.int(), last_page: z.int() }),
});

/** `data` of `GET /admin/v1/stats` (live counts). */
export const statsJsonSchema = z
  .object({
    queue_length: z.int(),
    waiting_advice: z.int().meta({ description: "Of `queue_length`, the requests for advice only (PROTOCOL §4)." }),
    vets: z
      .record(z.string(), z.int())
      .meta({ description: "Vets by status: `available`, `away`, `busy`, `offline`, …" }),
    open_consultations: z.int(),
  })
  .meta({ id: "Stats" });

/** `data` of `GET /admin/v1/stats/history`: one sample per step over the window, oldest first. */
export const statsHistoryJsonSchema = z
  .object({
    step_s: z.number(),
    window_s: z.number(),
    samples: z.array(
      statsJsonSchema.extend({
        waiting_advice: z.int().optional().meta({ description: "Absent in samples taken before licensing existed." }),
        t: isoInstant.meta({ description: "Start of the step." }),
        matches: z.int().meta({ description: "Matches in the step before `t`." }),
        match_latency_ms: z.object({ p50: z.number(), p95: z.number(), max: z.number() }).nullable(),
      }),
    ),
  })
  .meta({ id: "StatsHistory" });

/** A demo owner with their pets (`GET /demo/v1/owners`). */
export const demoOwnerJsonSchema = z
  .object({
    email: z.string(),
    first_name: z.string(),
    last_name: z.string().nullable(),
    role: role,
    region: z.string().nullable().meta({ description: "Where the owner's animals are (PROTOCOL §4)." }),
    pets: z.array(
      z.object({
        id: z.int(),
        name: z.string(),
        species: z.string().nullable(),
        breed: z.string().nullable(),
        age: z.string().nullable(),
        weight: z.string().nullable(),
        sex: z.string().nullable(),
        color: z.string().nullable(),
        profile: z.string().nullable(),
      }),
    ),
  })
  .meta({ id: "DemoOwner" });

/** A demo vet (`GET /demo/v1/vets`): who the demo owner may ask for. */
export const demoVetJsonSchema = z
  .object({
    email: z.string(),
    first_name: z.string(),
    last_name: z.string(),
    species: z.array(z.string()).meta({ description: "Species the vet treats; empty = every species." }),
    languages: z.array(z.string()).meta({ description: "ISO 639-1 codes the vet speaks." }),
    licenses: z.array(z.string()).meta({ description: "ISO 3166 codes where the vet may treat (PROTOCOL §4)." }),
  })
  .meta({ id: "DemoVet" });
