import { pino, type Logger } from "pino";

export type { Logger };

/** Paths whose values must never reach a log line. */
export const REDACT_PATHS = [
  "req.headers.authorization",
  "req.headers.cookie",
  "headers.authorization",
  "authorization",
  "password",
  "secret",
  "token",
  "twilioToken",
  "*.password",
  "*.secret",
  "*.token",
  "*.twilioToken",
  "*.apiSecret",
  "config.gatewaySecret",
  "config.adminToken",
];

/** JSON logger with secrets redacted. */
export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino({ level, redact: { paths: REDACT_PATHS, censor: "[redacted]" }, base: { service: "vet-gateway" } }, destination);
}
