/**
 * zod schemas of every socket payload (PROTOCOL §3): what clients send, what each
 * acknowledgement carries in `data`, and what the server pushes. The TypeScript types in
 * `events.ts` derive from these; the gateway validates with them; `/asyncapi.json` is
 * generated from them. Imports only zod, so a client SDK can take this module alone.
 */
import { z } from "zod";
import { languageCodeSchema } from "./languages.js";

const PG_INT_MAX = 2_147_483_647;

export const consultationTypeSchema = z.enum(["chat", "video"]).meta({ id: "ConsultationType" });
export const endedBySchema = z.enum(["user", "vet", "system"]).meta({ id: "EndedBy" });
export const callStatusSchema = z.enum(["notanswered", "declined", "accepted"]).meta({ id: "CallStatus" });
export const offerRevokedReasonSchema = z.enum(["cancelled", "timeout", "taken"]);
/** What a consultation may give (PROTOCOL §4): diagnosis and prescription, or general advice only. */
export const careSchema = z.enum(["treatment", "advice"]).meta({ id: "Care" });
/**
 * Where the animal is: an ISO 3166-1 alpha-2 country code (`GB`) or an ISO 3166-2 subdivision
 * (`US-CA`), any case (answered upper case). The shape is checked here; the gateway also
 * refuses a code that is not in ISO 3166 (422 `The selected region is invalid.`).
 */
export const regionSchema = z
  .string()
  .trim()
  .toUpperCase()
  .regex(/^[A-Z]{2}(-[A-Z0-9]{1,3})?$/, {
    error: "The :attribute must be an ISO 3166 country or subdivision code, such as GB or US-CA.",
  })
  .meta({ id: "Region", example: "US-CA" });
const isoTime = z.string().meta({ description: "ISO-8601 instant", example: "2026-12-01T14:05:00.000Z" });
const consultationIdField = z.string().min(1).max(64).meta({ example: "6f1c2a9e-3b8d-4c55-9a41-0d7e2b6f8c10" });

/** What the owner's app shows of a vet (`consult:matched.vet`, talk-to-vet `data.vet`). */
export const vetCardSchema = z
  .object({
    /** The vet's Twilio identity, e.g. `app-1_vet-152`. */
    id: z.string().meta({ example: "app-1_vet-152" }),
    username: z.string().meta({ example: "Ana Kim" }),
    profile_image: z.string().nullable(),
  })
  .meta({ id: "VetCard" });

/** The owner as a vet sees them in offers. */
export const offerUserSchema = z
  .object({ id: z.int(), first_name: z.string(), last_name: z.string().nullable(), email: z.string() })
  .loose()
  .meta({ id: "OfferUser" });
/** The pet as stored (pet/list's shape), or null. */
export const offerPetSchema = z
  .record(z.string(), z.unknown())
  .nullable()
  .meta({ description: "The pet as pet/list shows it, or null." });

// ---------- client → server ----------

export const consultationIdSchema = z.object({ consultation_id: consultationIdField });
export const presenceSetSchema = z.object({ status: z.enum(["available", "away"]) });
export const feedbackSubmitSchema = consultationIdSchema.extend({
  recommendation: z.string().trim().min(1).max(5000),
  reason: z.string().trim().min(1).max(5000),
  /** One of the gateway's `OUTCOMES` (`GET /vet/v1/config`); another answers 422 `The selected outcome is invalid.` */
  outcome: z.string().trim().min(1).max(64).meta({
    description:
      "What came of the consultation: one of `OUTCOMES` (listed by `GET /vet/v1/config`; default `resolved`, `follow_up`, `clinic_visit`, `emergency_referral`, `no_show`, `other`). Required.",
    example: "follow_up",
  }),
});
export const consultRequestSchema = z.object({
  conversation_request: consultationTypeSchema,
  // Typed as the number clients send (SDK); the gateway still accepts a numeric string.
  pet_id: z.coerce.number<number>().int().positive().max(PG_INT_MAX),
  doctor_email: z.email().max(254).optional(),
  /** Vets who speak it are preferred for `LANGUAGE_WAIT_MS` (PROTOCOL §4). */
  language: languageCodeSchema.optional(),
  /** Allowed only for subscribed `protect_users` owners (422 `The emergency field is not allowed.` otherwise). */
  emergency: z
    .boolean()
    .optional()
    .meta({ description: "Emergency request: subscribed `protect_users` owners only; others get 422." }),
  region: regionSchema.optional().meta({
    description:
      "Where the animal is, for this request (overrides the owner's `region`). With `LICENSING=on` a treatment request needs one.",
  }),
  care: careSchema.optional().meta({ description: "`treatment` (default) or `advice` (general advice only)." }),
  advice_fallback: z.boolean().optional().meta({
    description:
      "A treatment request that finds no licensed vet within `LICENSE_WAIT_MS` becomes advice (the owner is told).",
  }),
});
export const callStatusSetSchema = z.object({
  room_sid: z.string().min(1).max(64),
  status: callStatusSchema,
});
/** The longest chat message (PROTOCOL §10), after trimming. */
export const CHAT_TEXT_MAX = 4000;
/**
 * `chat:send` (offline Twilio mode): the text is trimmed, then 1–4000 characters. Characters
 * are Unicode code points, as JSON Schema's `maxLength` counts them (an emoji is one), not
 * UTF-16 units.
 */
export const chatSendSchema = consultationIdSchema.extend({
  text: z
    .string()
    .trim()
    .min(1)
    .refine((t) => [...t].length <= CHAT_TEXT_MAX, {
      error: `The :attribute must not be greater than ${CHAT_TEXT_MAX} characters.`,
    })
    .meta({
      maxLength: CHAT_TEXT_MAX,
      description: "Trimmed, then 1–4000 characters (422 otherwise).",
      example: "Is she still limping on the left hind leg?",
    }),
});
/** `token:refresh` takes an empty object (extra keys are ignored). */
export const emptySchema = z.object({}).loose();

// ---------- acknowledgement data ----------

export const presenceAckSchema = z.object({ status: z.enum(["available", "away"]) });
export const tokenSchema = z.object({ twilioToken: z.string(), expires_at: isoTime }).meta({ id: "TwilioTokenData" });
export const requestAckSchema = z.object({
  consultation_id: z.string(),
  status: z.enum(["queued", "offered", "active"]),
  position: z.int().min(0),
});
export const callStartAckSchema = z.object({ room_sid: z.string(), twilioToken: z.string() });
/**
 * One stored chat message (PROTOCOL §10): the `chat:send` ack, `chat:message`, the `messages`
 * of `consult:state`, accept and `consult:assigned`, and `GET /vet/v1/consultations/{id}/messages`.
 */
export const chatMessageSchema = z
  .object({
    id: z.string().meta({
      description: "Opaque; grows in the order messages were stored (the conversation's order).",
      example: "42",
    }),
    author: z.enum(["vet", "owner"]),
    author_name: z.string().meta({ description: "The author's name as it was when written.", example: "Ana Kim" }),
    text: z.string(),
    created_at: isoTime,
  })
  .meta({ id: "ChatMessage" });
/** The conversation so far: the last 100 messages, oldest first (offline Twilio mode only). */
const messagesField = z.array(chatMessageSchema).optional().meta({
  description:
    "Offline Twilio mode only (the gateway carries the chat): the last 100 messages, oldest first. Absent in live mode. In the owner's `consult:state`: for an active consultation, and for one waiting again after its vet left.",
});
/** Acks that carry no data answer `data: true`. */
export const trueSchema = z.literal(true);

// ---------- server → client ----------

/** Owner-side view of a matched consultation (`consult:matched`, talk-to-vet `data`). */
export const matchedSchema = z
  .object({
    consultation_id: z.string(),
    type: consultationTypeSchema,
    channel: z.string().meta({ description: "The Twilio Conversation SID (`CH…`)." }),
    vet: vetCardSchema,
    identity: z.string().meta({ description: "The recipient's own Twilio identity." }),
    twilioToken: z.string().meta({ description: "The recipient's own Twilio access token." }),
  })
  .meta({ id: "Matched" });

/** What the owner asked for beyond owner and pet (PROTOCOL §4); each only when set. */
const requestTagFields = {
  emergency: z.boolean().optional().meta({
    description:
      "True when the owner (a subscribed `protect_users` owner) asked for emergency handling (PROTOCOL §4). Absent otherwise.",
  }),
  language: z
    .string()
    .optional()
    .meta({ description: "ISO 639-1 code of the language the owner asked for, when they did." }),
  care: careSchema.meta({ description: "`advice`: general advice only, no diagnosis or prescription (PROTOCOL §4)." }),
  region: z.string().nullable().meta({ description: "Where the animal is (ISO 3166), or null." }),
  history_count: z.int().min(0).meta({
    description:
      "How many earlier consultations the pet had in this app (ended ones a vet held), counted when the request was made: `GET /vet/v1/pets/{pet_id}/history` lists them. 0 without a pet.",
    example: 2,
  }),
};

export const offerSchema = z.object({
  consultation_id: z.string(),
  type: consultationTypeSchema,
  user: offerUserSchema,
  pet: offerPetSchema,
  requested: z.boolean().meta({ description: "True when the owner asked for this vet by email." }),
  expires_at: isoTime,
  transferred: z.boolean().optional().meta({
    description:
      "True when the consultation was active with a vet who left (PROTOCOL §4): the chat so far is in the same Conversation.",
  }),
  referral: z
    .object({ from_vet: z.object({ id: z.int(), name: z.string() }), note: z.string() })
    .optional()
    .meta({
      description: "A referral from another vet (PROTOCOL §10): who refers it, and their note. Absent on requests.",
    }),
  ...requestTagFields,
});

/** What `consult:accept` answers and `consult:assigned` carries to the vet. */
export const vetConsultationSchema = matchedSchema
  .extend({
    user: offerUserSchema,
    pet: offerPetSchema,
    user_identity: z.string().meta({ description: "The owner's Twilio identity (the other participant)." }),
    leaving: z.boolean().optional().meta({
      description:
        "True for a warm referral's first vet while both hold it (PROTOCOL §10): it ends its part with `consult:leave`.",
    }),
    // As the offer: a console opened after the offer (reload, another device) still shows them.
    ...requestTagFields,
    /** A vet taking over (hand-over, referral) or resuming sees the conversation so far. */
    messages: messagesField,
  })
  .meta({ id: "VetConsultation" });

/**
 * Sent to a vet right after connecting, once per active consultation of theirs (a console
 * that reloads resumes): accept's data with a fresh vet token, and `status: "active"`.
 */
export const vetStateSchema = vetConsultationSchema.extend({ status: z.literal("active") }).meta({ id: "VetState" });

export const offerRevokedSchema = z.object({ consultation_id: z.string(), reason: offerRevokedReasonSchema });
export const presenceSchema = z.object({
  status: z.enum(["available", "away", "offline"]),
  reason: z.string().optional(),
});
export const vetCallStatusSchema = z.object({
  consultation_id: z.string(),
  room_sid: z.string(),
  status: callStatusSchema,
});
export const endedSchema = z.object({
  consultation_id: z.string(),
  ended_by: endedBySchema,
  reason: z.string().optional(),
});
export const feedbackSchema = z.object({
  consultation_id: z.string(),
  type: consultationTypeSchema,
  vet_first_name: z.string(),
  vet_last_name: z.string(),
  recommendation: z.string(),
  reason: z.string(),
  outcome: z.string().nullable().meta({
    description: "One of `OUTCOMES` (PROTOCOL §10), or null for feedback given without one (before outcomes existed).",
  }),
  feedback_date: z.string(),
});
export const queuedSchema = z.object({
  consultation_id: z.string(),
  position: z.int().min(0),
  estimated_wait_s: z.number().min(0),
  reason: z.string().optional().meta({
    description:
      "`vet_left`: the vet of the active consultation did not come back; it waits again at the head of the queue. `no_licensed_vet`: no licensed vet was free within `LICENSE_WAIT_MS`; the request became advice (`care`).",
  }),
  care: careSchema
    .optional()
    .meta({ description: "Present when the request is for advice only (it became advice, or was asked as such)." }),
});
export const callIncomingSchema = z.object({
  consultation_id: z.string(),
  room_sid: z.string(),
  vet: vetCardSchema,
  twilioToken: z.string(),
});
export const expiredSchema = z.object({ consultation_id: z.string() });
/** Sent to a user right after connecting when an open consultation exists (resume). */
export const stateSchema = z.object({
  consultation_id: z.string(),
  status: z.enum(["queued", "offered", "active"]),
  type: consultationTypeSchema,
  position: z.int().min(0).optional(),
  estimated_wait_s: z.number().min(0).optional(),
  channel: z.string().nullable().optional(),
  room_sid: z.string().nullable().optional(),
  vet: vetCardSchema.optional(),
  identity: z.string().optional(),
  twilioToken: z.string().optional(),
  care: careSchema.optional(),
  region: z.string().nullable().optional(),
  messages: messagesField,
});
/** `chat:message`: a message stored in a consultation, to everyone in it (owner and vets), on every node. */
export const chatMessageEventSchema = z
  .object({ consultation_id: z.string(), message: chatMessageSchema })
  .meta({ id: "ChatMessageEvent" });

/**
 * Why the gateway closed a socket itself: a newer connection of the same identity, flooding,
 * or a revoked session (vet disabled, given a new password or re-enabled; PROTOCOL §7).
 */
export const sessionClosedReasonSchema = z.enum(["replaced", "flooding", "revoked"]);
/** Sent right before the server disconnects the socket; clients should not reconnect on their own. */
export const sessionClosedSchema = z.object({ reason: sessionClosedReasonSchema });
