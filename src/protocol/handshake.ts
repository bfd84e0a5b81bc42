/**
 * A refused Socket.IO handshake (PROTOCOL §3): `connect_error` whose `message` says why in
 * one word and whose `data` is the error envelope, so a client can tell "this token will
 * never work" (401) from "try again shortly" (503, 500). Part of the wire protocol: imports
 * only zod.
 */
import { z } from "zod";

/** Seconds a client should wait before retrying a handshake refused as `unavailable` (as REST's `Retry-After`). */
export const HANDSHAKE_RETRY_AFTER_S = 5;

const refusal = <M extends string, S extends number>(message: M, status: S, text: string, extra: z.ZodRawShape = {}) =>
  z.object({
    message: z.literal(message),
    data: z.object({
      success: z.literal(false),
      status_code: z.literal(status),
      message: z
        .array(z.string())
        .min(1)
        .meta({ examples: [[text]] }),
      data: z.array(z.never()).max(0),
      ...extra,
    }),
  });

/** Bad, expired, revoked or wrong-namespace token, or its user or vet no longer exists or is disabled: final. */
export const unauthorizedRefusalSchema = refusal("unauthorized", 401, "Unauthenticated.").meta({
  id: "HandshakeUnauthorized",
  description: "The token will not be accepted: get a new one (or sign in again). Do not retry the same token.",
});

/** The database (or Redis) could not answer the token check in time: retry, the token may well be good. */
export const unavailableRefusalSchema = refusal("unavailable", 503, "Service Unavailable", {
  retry_after_s: z.int().min(1).describe("Seconds to wait before the next attempt (REST's `Retry-After`)."),
}).meta({
  id: "HandshakeUnavailable",
  description:
    "The gateway could not check the token because its database (or Redis) was unreachable or too slow " +
    "(`DATABASE_TIMEOUT_MS`). Nothing is wrong with the token: reconnect with it after `retry_after_s`.",
});

/** An unexpected failure while checking the token (a bug, logged): retry later. */
export const serverErrorRefusalSchema = refusal("server_error", 500, "Server Error").meta({
  id: "HandshakeServerError",
  description: "An unexpected error while checking the token (logged by the gateway). Retry later with backoff.",
});

/** What `connect_error` carries when the gateway refuses a handshake. */
export const handshakeRefusalSchema = z.discriminatedUnion("message", [
  unauthorizedRefusalSchema,
  unavailableRefusalSchema,
  serverErrorRefusalSchema,
]);

/** The `message` of a refused handshake's `connect_error`. */
export type HandshakeRefusalReason = z.infer<typeof handshakeRefusalSchema>["message"];

/** The `data` of a refused handshake's `connect_error`: the error envelope, plus `retry_after_s` on 503. */
export interface HandshakeRefusalData {
  success: false;
  status_code: 401 | 500 | 503;
  message: string[];
  data: never[];
  retry_after_s?: number;
}
