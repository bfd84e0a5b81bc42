/**
 * zod schemas of the referral events (PROTOCOL §10): a vet hands an active consultation to
 * another vet. Beside `payloads.ts`, which holds the rest of the socket protocol.
 */
import { z } from "zod";
import { languageCodeSchema } from "./languages.js";
import { consultationIdSchema, vetCardSchema } from "./payloads.js";

/** Who may take the referral: a named vet, or any vet with these skills (none given: any vet). */
export const transferTargetSchema = z
  .union([
    z.strictObject({ vet_email: z.email().max(254) }),
    z.strictObject({
      species: z.string().trim().toLowerCase().min(1).max(50).optional(),
      language: languageCodeSchema.optional(),
    }),
  ])
  .meta({
    id: "TransferTarget",
    description: "`{vet_email}` (that vet only) or `{species?, language?}` (any vet with those skills).",
  });

export const transferModeSchema = z.enum(["warm", "cold"]).meta({
  id: "TransferMode",
  description: "`warm`: both vets hold it until the first sends `consult:leave`; `cold`: the first leaves on accept.",
});

/** `consult:transfer`. */
export const transferSchema = consultationIdSchema.extend({
  to: transferTargetSchema,
  note: z
    .string()
    .trim()
    .max(1000)
    .default("")
    .meta({ description: "Shown to the next vet (at most 1000 characters)." }),
  mode: transferModeSchema.default("warm"),
});

/** `consult:transfer`'s acknowledgement. */
export const transferAckSchema = z.object({ consultation_id: z.string(), referral: z.literal("pending") });

/** What a referral's offer says of it (`consult:offer.referral`). */
export const offerReferralSchema = z
  .object({
    from_vet: z.object({ id: z.int(), name: z.string() }),
    note: z.string(),
  })
  .meta({ id: "OfferReferral" });

export const transferFailedReasonSchema = z.enum(["declined", "missed", "timeout"]).meta({
  description:
    "`declined` or `missed`: the named vet declined or let the offer lapse; `timeout`: nobody accepted within TRANSFER_TIMEOUT_MS.",
});

/** `consult:transfer_failed` (to the first vet, who keeps the consultation). */
export const transferFailedSchema = z.object({ consultation_id: z.string(), reason: transferFailedReasonSchema });

/** `consult:transferred`: to the owner (the new vet), and to the first vet with its `mode`. */
export const transferredSchema = z.object({
  consultation_id: z.string(),
  vet: vetCardSchema,
  mode: transferModeSchema
    .optional()
    .meta({ description: "To the first vet only: `warm`, it holds the consultation until `consult:leave`." }),
});
