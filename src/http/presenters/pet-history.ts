/** The JSON of `GET /vet/v1/pets/{pet_id}/history` (PROTOCOL §10) and its zod schema (for `/openapi.json`). */
import { z } from "zod";
import type { PetHistoryItem } from "../../repositories/pet-history.js";

const isoTime = z.string().meta({ description: "ISO-8601 instant", example: "2026-11-20T09:14:03.000Z" });

/** One past consultation of the pet. */
export const petHistoryItemJsonSchema = z
  .object({
    consultation_id: z.string(),
    date: isoTime.meta({ description: "When a vet took it (the consultation's start)." }),
    ended_at: isoTime.nullable(),
    channel: z
      .enum(["chat", "video"])
      .meta({ description: "How it was held: `chat` or `video` (the consultation's `type`)." }),
    type: z
      .enum(["chat", "video"])
      .meta({ description: "The same as `channel`, under the name the other payloads use." }),
    vet_id: z.int().nullable().meta({ description: "The vet who held it last (who gave the feedback)." }),
    vet_name: z
      .string()
      .meta({ description: "That vet's first and last name; empty when unknown.", example: "Ana Kim" }),
    duration_s: z.int().min(0).nullable().meta({ description: "From start to end, in whole seconds.", example: 754 }),
    outcome: z.string().nullable().meta({
      description: "One of `OUTCOMES`, or null (no feedback, or feedback without an outcome).",
      example: "follow_up",
    }),
    recommendation: z.string().nullable().meta({ description: "The vet's feedback, or null when none was given." }),
    reason: z.string().nullable(),
  })
  .meta({ id: "PetHistoryItem" });

/** `data` of the history: one page, newest first, with the paging of the other lists. */
export const petHistoryJsonSchema = z
  .object({
    list: z.array(petHistoryItemJsonSchema),
    pagination: z.object({ total: z.int(), page: z.int(), perPage: z.int(), last_page: z.int() }),
  })
  .meta({ id: "PetHistory" });

const iso = (d: Date | null) => (d === null ? null : d.toISOString());

/** One history entry on the wire. */
export function petHistoryItemJson(r: PetHistoryItem): z.output<typeof petHistoryItemJsonSchema> {
  const type = r.type === "video" ? "video" : "chat";
  return {
    consultation_id: r.consultationId,
    date: r.startedAt.toISOString(),
    ended_at: iso(r.endedAt),
    channel: type,
    type,
    vet_id: r.vetId,
    vet_name: `${r.vetFirstName ?? ""} ${r.vetLastName ?? ""}`.trim(),
    duration_s:
      r.endedAt === null ? null : Math.max(0, Math.round((r.endedAt.getTime() - r.startedAt.getTime()) / 1000)),
    outcome: r.outcome,
    recommendation: r.recommendation,
    reason: r.reason,
  };
}

/** The page as `data`. */
export function petHistoryJson(
  rows: PetHistoryItem[],
  total: number,
  page: number,
  perPage: number,
): z.output<typeof petHistoryJsonSchema> {
  return {
    list: rows.map(petHistoryItemJson),
    pagination: { total, page, perPage, last_page: Math.max(1, Math.ceil(total / perPage)) },
  };
}
