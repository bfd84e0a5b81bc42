/**
 * Recognises "the database is unreachable or too slow" among driver errors, so transports
 * can answer 503 (retry later) instead of 500 (a bug). Drizzle wraps driver errors in
 * `DrizzleQueryError`, so the whole `cause` chain is inspected.
 */

// SQLSTATE: query_canceled (statement_timeout), admin/crash shutdown, cannot connect now.
const UNAVAILABLE_SQLSTATES = new Set(["57014", "57P01", "57P02", "57P03", "53300"]);
const NETWORK_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EPIPE", "EHOSTUNREACH", "ENETUNREACH"]);
// node-postgres reports its own deadlines and dropped connections only by message.
const DRIVER_MESSAGES =
  /Connection terminated|timeout exceeded when trying to connect|Query read timeout|Client has encountered a connection error|Connection ended unexpectedly/i;

/** True when `err` (or any error in its `cause` chain) says the database is unavailable. */
export function isDatabaseUnavailable(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    if (!(e instanceof Error)) return false;
    const code = (e as { code?: unknown }).code;
    if (
      typeof code === "string" &&
      (UNAVAILABLE_SQLSTATES.has(code) || NETWORK_CODES.has(code) || code.startsWith("08"))
    ) {
      return true;
    }
    if (DRIVER_MESSAGES.test(e.message)) return true;
  }
  return false;
}
