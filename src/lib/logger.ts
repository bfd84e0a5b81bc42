import { pino, type Logger } from "pino";

export type { Logger };

/** Property names whose values never reach a log line, wherever they sit (up to three levels deep). */
export const SENSITIVE_KEYS = [
  "authorization",
  "Authorization",
  "cookie",
  "Cookie",
  '"set-cookie"',
  "password",
  "passwordHash",
  "secret",
  "secretHash",
  "token",
  "accessToken",
  "access_token",
  "refreshToken",
  "twilioToken",
  "socket_token",
  "apiKey",
  "apiSecret",
  "adminToken",
  "gatewaySecret",
] as const;

/**
 * Paths whose values must never reach a log line. pino's redaction matches exact paths,
 * so each key is listed at the top level and under one and two wildcards: that covers
 * `{ password }`, `{ body: { password } }` and `{ req: { headers: { authorization } } }`.
 */
export const REDACT_PATHS: string[] = SENSITIVE_KEYS.flatMap((k) => {
  const seg = k.startsWith('"') ? `[${k}]` : `.${k}`;
  const top = k.startsWith('"') ? `[${k}]` : k;
  return [top, `*${seg}`, `*.*${seg}`];
});

/** JSON logger with secrets redacted. */
export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    { level, redact: { paths: REDACT_PATHS, censor: "[redacted]" }, base: { service: "vet-gateway" } },
    destination,
  );
}
