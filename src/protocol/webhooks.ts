/**
 * Partner webhooks on the wire (PROTOCOL §9): the event types and the body every delivery
 * carries. A partner's receiver can take this module alone (it imports only zod) to type
 * and validate what it receives; the gateway builds its bodies with it and `/openapi.json`
 * describes them in its `webhooks` section.
 */
import { z } from "zod";

/** Every event a partner is told of, in the order a consultation can produce them. */
export const WEBHOOK_EVENT_TYPES = [
  "consultation.queued",
  "consultation.matched",
  "consultation.transferred",
  "consultation.care_changed",
  "consultation.ended",
  "consultation.cancelled",
  "consultation.expired",
  "feedback.submitted",
] as const;

export const webhookEventTypeSchema = z.enum(WEBHOOK_EVENT_TYPES).meta({ id: "WebhookEventType" });
export type WebhookEventType = z.output<typeof webhookEventTypeSchema>;

const isoTime = z.string().meta({ description: "ISO-8601 instant", example: "2026-12-01T14:05:00.000Z" });

/** One vet's time holding the consultation (a hand-over or a referral adds another). */
export const webhookVetSpellSchema = z
  .object({
    vet_id: z.int(),
    joined_at: isoTime,
    left_at: isoTime.nullable().meta({ description: "Null while the vet still holds it." }),
  })
  .meta({ id: "WebhookVetSpell" });

/** The consultation as the event left it. */
export const webhookConsultationSchema = z
  .object({
    id: z.string().meta({ example: "6f1c2a9e-3b8d-4c55-9a41-0d7e2b6f8c10" }),
    status: z.enum(["queued", "offered", "active", "ended", "cancelled", "expired"]),
    type: z.enum(["chat", "video"]),
    care: z
      .enum(["treatment", "advice"])
      .meta({ description: "`advice`: general advice only, no diagnosis or prescription (PROTOCOL §4)." }),
    region: z
      .string()
      .nullable()
      .meta({ description: "ISO 3166-2 or country code of the animal, when known.", example: "US-CA" }),
    user: z.object({ id: z.int(), email: z.string() }),
    pet_id: z.int().nullable(),
    vet: z
      .object({ id: z.int(), email: z.string() })
      .nullable()
      .meta({ description: "The vet holding it now (last), or null." }),
    vets: z.array(webhookVetSpellSchema).meta({ description: "Every vet who held it, oldest first." }),
    channel_sid: z.string().nullable(),
    room_sid: z.string().nullable(),
    created_at: isoTime,
    accepted_at: isoTime.nullable(),
    ended_at: isoTime.nullable(),
    ended_by: z.enum(["user", "vet", "system"]).nullable(),
    end_reason: z.string().nullable(),
  })
  .meta({ id: "WebhookConsultation" });

/** The vet's feedback, on `feedback.submitted`. */
export const webhookFeedbackSchema = z
  .object({
    recommendation: z.string(),
    reason: z.string(),
    outcome: z.string().nullable().meta({ description: "One of `OUTCOMES`, or null when none was given." }),
  })
  .meta({ id: "WebhookFeedback" });

/** The JSON body of every delivery. */
export const webhookBodySchema = z
  .object({
    type: webhookEventTypeSchema,
    timestamp: isoTime.meta({ description: "When the event happened (not when it was sent)." }),
    data: z.object({
      consultation: webhookConsultationSchema,
      feedback: webhookFeedbackSchema.optional(),
    }),
  })
  .meta({ id: "WebhookBody" });
export type WebhookBody = z.output<typeof webhookBodySchema>;
