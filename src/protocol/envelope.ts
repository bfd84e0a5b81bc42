/**
 * The one response shape of REST and socket acknowledgements (PROTOCOL §2, §3): its zod
 * schema, its type and the pure builders {@link ok} and {@link fail}. Part of the wire
 * protocol: imports only zod.
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

/** A successful envelope. */
export function ok<T>(data: T, message: string | string[] = "OK", status = 200): Envelope<T> {
  return { success: true, status_code: status, message: Array.isArray(message) ? message : [message], data };
}

/** An error envelope; errors always carry `data: []`. */
export function fail(status: number, message: string | string[]): Envelope<never[]> {
  return { success: false, status_code: status, message: Array.isArray(message) ? message : [message], data: [] };
}
