/**
 * ISO 3166 regions (PROTOCOL §4 licensing): country codes (ISO 3166-1 alpha-2, `GB`) and
 * subdivision codes (ISO 3166-2, `US-CA`), from the `iso-3166` package's tables.
 */
import { iso31661, iso31662 } from "iso-3166";

const CODES = new Set<string>([...iso31661.map((c) => c.alpha2), ...iso31662.map((s) => s.code)]);

/** The code (upper case) names an assigned country or subdivision. */
export function isIsoRegion(code: string): boolean {
  return CODES.has(code);
}

/** The message of a region that is well formed but not in ISO 3166. */
export const INVALID_REGION = "The selected region is invalid.";
