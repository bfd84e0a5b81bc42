/**
 * Which browser origins may call (PROTOCOL §7, `CORS_ORIGINS`): one rule for both transports.
 */

/**
 * True when a request with this `Origin` may be served: no Origin (not a browser, or a
 * same-origin navigation), the same origin as `host`, or one listed in `CORS_ORIGINS`.
 */
export function originAllowed(
  origin: string | undefined,
  host: string | undefined,
  allowed: readonly string[],
): boolean {
  if (!origin) return true;
  if (allowed.includes(origin)) return true;
  try {
    return host !== undefined && new URL(origin).host === host;
  } catch {
    return false;
  }
}
