/**
 * The handshake check of `/user` and `/vet` as Socket.IO middleware. The token's signature
 * and expiry are checked in memory; whether its user or vet still exists (and is active) is
 * read from the database. When that read cannot be answered the refusal is `unavailable`
 * (503, retry), never `unauthorized` (401, final): a database blip must not sign everyone out.
 */
import type { Logger } from "../lib/logger.js";
import type { OutageLog } from "../lib/outage-log.js";
import { isStorageUnavailable } from "../transport/storage-unavailable.js";
import type { Metrics } from "../ops/metrics.js";
import {
  HANDSHAKE_RETRY_AFTER_S,
  type HandshakeRefusalData,
  type HandshakeRefusalReason,
} from "../protocol/handshake.js";

/** The error Socket.IO sends as `connect_error`: its `message` and `data` reach the client. */
export class HandshakeRefusal extends Error {
  readonly data: HandshakeRefusalData;

  constructor(reason: HandshakeRefusalReason) {
    super(reason);
    this.name = "HandshakeRefusal";
    this.data =
      reason === "unauthorized"
        ? { success: false, status_code: 401, message: ["Unauthenticated."], data: [] }
        : reason === "unavailable"
          ? {
              success: false,
              status_code: 503,
              message: ["Service Unavailable"],
              data: [],
              retry_after_s: HANDSHAKE_RETRY_AFTER_S,
            }
          : { success: false, status_code: 500, message: ["Server Error"], data: [] };
  }
}

/** The part of a Socket.IO socket the check needs (any namespace's socket has it). */
interface HandshakeSocket<D> {
  handshake: { auth: unknown };
  data: D;
}

export interface HandshakeGuardOptions<D> {
  namespace: "user" | "vet";
  logger: Logger;
  /** Where refusals for an outage go: aggregated, without stack or SQL. */
  outages: OutageLog;
  metrics: Metrics;
  /**
   * The socket's identity when `token` is valid and its account may connect, else null
   * (refused `unauthorized`). Throws when it cannot tell (database or Redis away).
   */
  admit(token: unknown): Promise<D | null>;
}

/** Socket.IO middleware: admits the handshake with `socket.data` set, or refuses it with a {@link HandshakeRefusal}. */
export function handshakeGuard<D extends object>(
  opts: HandshakeGuardOptions<D>,
): (socket: HandshakeSocket<D>, next: (err?: Error) => void) => void {
  const count = (result: HandshakeRefusalReason | "ok") =>
    opts.metrics.socketHandshakes.inc({ namespace: opts.namespace, result });
  return (socket, next) => {
    const token = (socket.handshake.auth as { token?: unknown } | undefined)?.token;
    opts.admit(token).then(
      (who) => {
        if (!who) {
          count("unauthorized");
          return next(new HandshakeRefusal("unauthorized"));
        }
        Object.assign(socket.data, who);
        count("ok");
        next();
      },
      (err: unknown) => {
        const reason = isStorageUnavailable(err) ? "unavailable" : "server_error";
        if (reason === "unavailable")
          opts.outages.warn("handshake refused: storage unavailable", err, { namespace: opts.namespace });
        else opts.logger.error({ err, namespace: opts.namespace }, "handshake failed");
        count(reason);
        next(new HandshakeRefusal(reason));
      },
    );
  };
}
