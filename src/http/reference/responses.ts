/** Building blocks of `/openapi.json`: envelopes, the error answers and their examples. */
import { z } from "zod";
import { envelopeSchema, errorEnvelopeSchema } from "../../protocol/envelope.js";

/** The first message of each error status, as the gateway words it. */
const ERROR_EXAMPLES: Record<number, { description: string; message: string[] }> = {
  400: { description: "Malformed JSON body.", message: ["Malformed JSON body."] },
  401: { description: "Missing or wrong credentials, or another app's.", message: ["Unauthenticated."] },
  403: { description: "Known, but not allowed (e.g. a disabled vet).", message: ["This vet account is disabled."] },
  404: {
    description: "Unknown app name, or the user/pet/consultation is not in this app.",
    message: ["User not found"],
  },
  409: { description: "A state conflict.", message: ["The email has already been taken."] },
  413: { description: "Body over 1 MiB (JSON) or 5 MiB (image).", message: ["Payload Too Large"] },
  415: { description: "Unsupported content type.", message: ["Unsupported Media Type"] },
  422: { description: "Validation failed: one message per failed field.", message: ["The email field is required."] },
  429: { description: "Rate limit exceeded.", message: ["Too Many Requests"] },
  500: { description: "Unexpected error (never a stack trace).", message: ["Server Error"] },
  503: {
    description: "No vet available, or the database could not take the change; see `Retry-After`.",
    message: ["Service Unavailable"],
  },
};

const rateLimitHeaders = {
  "x-ratelimit-limit": { description: "Requests allowed per minute.", schema: { type: "integer" as const } },
  "x-ratelimit-remaining": { description: "Requests left in this minute.", schema: { type: "integer" as const } },
};

/** One error answer in the envelope, with the message it usually carries. */
export function errorResponse(status: number, overrides: { message?: string; description?: string } = {}) {
  const base = ERROR_EXAMPLES[status] ?? { description: "Error.", message: ["Error"] };
  const message = overrides.message ? [overrides.message] : base.message;
  return {
    description: overrides.description ?? base.description,
    ...(status === 503 || status === 429
      ? { headers: { "retry-after": { description: "Seconds to wait.", schema: { type: "integer" as const } } } }
      : {}),
    content: {
      "application/json": {
        schema: errorEnvelopeSchema,
        example: { success: false, status_code: status, message, data: [] },
      },
    },
  };
}

/** A success answer: the envelope around `data`, with an example. */
export function successResponse(
  data: z.ZodType,
  example: unknown,
  opts: { status?: number; message?: string; description?: string; rateLimited?: boolean } = {},
) {
  const status = opts.status ?? 200;
  return {
    description: opts.description ?? "Success.",
    ...(opts.rateLimited ? { headers: rateLimitHeaders } : {}),
    content: {
      "application/json": {
        schema: envelopeSchema(data),
        example: { success: true, status_code: status, message: [opts.message ?? "OK"], data: example },
      },
    },
  };
}

/** A JSON request body with one realistic example. */
export function jsonBody(schema: z.ZodType, example: unknown) {
  return { required: true, content: { "application/json": { schema, example } } };
}

/** Several error answers at once; `messages` overrides the example message of a status. */
export function errors(statuses: number[], messages: Record<number, string> = {}) {
  return Object.fromEntries(
    statuses.map((s) => [String(s), errorResponse(s, messages[s] !== undefined ? { message: messages[s] } : {})]),
  );
}
