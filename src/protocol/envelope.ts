/**
 * The one response shape of REST and socket acknowledgements (PROTOCOL §2, §3), as a zod
 * schema and the type derived from it. Part of the wire protocol: imports only zod.
 */
import { z } from "zod";

/** The envelope around any `data` schema. */
export function envelopeSchema<T extends z.ZodType>(data: T) {
  return z.object({
    success: z.boolean(),
    /** Equal to the HTTP status (REST) or the outcome's status (socket ack). */
    status_code: z.int(),
    message: z.array(z.string()),
    data,
  });
}

/** An error envelope: `success: false`, `data: []`. */
export const errorEnvelopeSchema = z
  .object({
    success: z.literal(false),
    status_code: z.int().min(400).max(599),
    message: z.array(z.string()).min(1),
    data: z.array(z.never()).max(0),
  })
  .meta({ id: "ErrorEnvelope", description: "Every error answer: `data` is always `[]`." });

/** The one response shape of REST and socket acknowledgements (PROTOCOL §2, §3). */
export interface Envelope<T = unknown> {
  success: boolean;
  status_code: number;
  message: string[];
  data: T;
}
