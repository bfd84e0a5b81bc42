import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";

/** Prometheus metrics of one gateway instance; a registry each, so two instances in one process stay apart. */
export interface Metrics {
  readonly registry: Registry;
  readonly httpDuration: Histogram<"method" | "route" | "status">;
  readonly socketConnections: Gauge<"namespace">;
  readonly socketEvents: Counter<"namespace" | "event" | "status">;
  /** Socket handshakes by outcome: `ok`, `unauthorized`, `unavailable` (storage away), `server_error`. */
  readonly socketHandshakes: Counter<"namespace" | "result">;
  readonly matchLatency: Histogram;
  readonly consultations: Counter<"outcome">;
  readonly offers: Counter<"outcome">;
  readonly twilioCalls: Counter<"operation" | "result">;
  /** Ledger writes behind retried because the database was away (the metric keeps its first name). */
  readonly historyWriteRetries: Counter;
  /** Ledger writes behind given up (`rejected` by the database, or left at `shutdown`). */
  readonly historyWriteFailures: Counter<"reason">;
  readonly rebuilds: Counter;
  /** Refused requests the tarpit holds now (`RATE_LIMIT_TARPIT_MS`). */
  readonly tarpitHeld: Gauge;
  /** Refusals answered at once because the tarpit already held `RATE_LIMIT_TARPIT_MAX`. */
  readonly tarpitFull: Counter;
  /** Webhook attempts by result: `delivered`, `retry` (failed, tried again later), `failed` (given up). */
  readonly webhookAttempts: Counter<"result">;
  /** How long each webhook attempt took (the receiver's answer, or the failure). */
  readonly webhookAttemptSeconds: Histogram;
  /** Age of the oldest pending webhook event (all apps); 0 when none is pending. */
  readonly webhookOldestPending: Gauge;
}

export function createMetrics(opts: { defaultMetrics?: boolean } = {}): Metrics {
  const registry = new Registry();
  if (opts.defaultMetrics ?? true) collectDefaultMetrics({ register: registry });
  const registers = [registry];
  return {
    registry,
    httpDuration: new Histogram({
      name: "http_request_duration_seconds",
      help: "HTTP request duration by route and status",
      labelNames: ["method", "route", "status"],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    }),
    socketConnections: new Gauge({
      name: "socket_connections",
      help: "Open Socket.IO connections on this node",
      labelNames: ["namespace"],
      registers,
    }),
    socketEvents: new Counter({
      name: "socket_events_total",
      help: "Client-to-server socket events by acknowledgement status",
      labelNames: ["namespace", "event", "status"],
      registers,
    }),
    socketHandshakes: new Counter({
      name: "socket_handshakes_total",
      help: "Socket.IO handshakes by outcome (ok, unauthorized, unavailable, server_error)",
      labelNames: ["namespace", "result"],
      registers,
    }),
    matchLatency: new Histogram({
      name: "consultation_match_seconds",
      help: "Time from a consultation request to the vet's acceptance",
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1, 5, 15, 30, 60, 120, 300, 600],
      registers,
    }),
    consultations: new Counter({
      name: "consultations_total",
      help: "Consultations by final outcome",
      labelNames: ["outcome"],
      registers,
    }),
    rebuilds: new Counter({
      name: "rebuilds_total",
      help: "Rebuilds of the live state from the database run by this node",
      registers,
    }),
    tarpitHeld: new Gauge({
      name: "http_tarpit_held",
      help: "Refused REST requests held by the tarpit on this node",
      registers,
    }),
    tarpitFull: new Counter({
      name: "http_tarpit_full_total",
      help: "Refused REST requests answered at once because the tarpit was full",
      registers,
    }),
    offers: new Counter({
      name: "offers_total",
      help: "Offers by outcome",
      labelNames: ["outcome"],
      registers,
    }),
    twilioCalls: new Counter({
      name: "twilio_calls_total",
      help: "Twilio REST operations by result",
      labelNames: ["operation", "result"],
      registers,
    }),
    historyWriteRetries: new Counter({
      name: "history_write_retries_total",
      help: "History writes retried because the database was unreachable or too slow",
      registers,
    }),
    webhookAttempts: new Counter({
      name: "webhook_attempts_total",
      help: "Webhook delivery attempts by result (delivered, retry, failed)",
      labelNames: ["result"],
      registers,
    }),
    webhookAttemptSeconds: new Histogram({
      name: "webhook_attempt_seconds",
      help: "Duration of webhook delivery attempts",
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
    webhookOldestPending: new Gauge({
      name: "webhook_oldest_pending_seconds",
      help: "Age of the oldest webhook event not yet delivered or failed",
      registers,
    }),
    historyWriteFailures: new Counter({
      name: "history_write_failures_total",
      help: "History writes given up: refused by the database, or still unstored at shutdown",
      labelNames: ["reason"],
      registers,
    }),
  };
}
