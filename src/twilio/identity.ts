/**
 * Twilio identities (PROTOCOL §1). Partners parse these strings, so the shapes are fixed:
 * user `"{prefix}-app-{appId}_user-{userId}"`, vet `"app-{vetAppId}_vet-{vetId}"`.
 */

/** A parsed identity; see {@link parseIdentity}. */
export type ParsedIdentity =
  { kind: "user"; prefix: string; appId: number; userId: number } | { kind: "vet"; appId: number; vetId: number };

// Ids are database serials: non-negative, no leading zeros, so format∘parse round-trips exactly.
const ID = "(0|[1-9][0-9]{0,15})";
// The prefix starts with a letter or digit; `-` is allowed inside, so the regex anchors on the
// last `-app-<id>_user-<id>` and a prefix such as `eu-prod` still parses.
const PREFIX = "[A-Za-z0-9][A-Za-z0-9._-]{0,63}";
const PREFIX_RE = new RegExp(`^${PREFIX}$`);
const USER_RE = new RegExp(`^(${PREFIX})-app-${ID}_user-${ID}$`);
const VET_RE = new RegExp(`^app-${ID}_vet-${ID}$`);

function checkId(name: string, v: number): number {
  if (!Number.isSafeInteger(v) || v < 0) throw new RangeError(`${name} must be a non-negative integer`);
  return v;
}

/** The pet owner's identity: `"{prefix}-app-{appId}_user-{userId}"`. Throws RangeError on junk input. */
export function userIdentity(prefix: string, appId: number, userId: number): string {
  if (!PREFIX_RE.test(prefix)) throw new RangeError("identity prefix must match [A-Za-z0-9][A-Za-z0-9._-]*");
  return `${prefix}-app-${checkId("appId", appId)}_user-${checkId("userId", userId)}`;
}

/** The vet's identity: `"app-{vetAppId}_vet-{vetId}"`. Throws RangeError on junk input. */
export function vetIdentity(vetAppId: number, vetId: number): string {
  return `app-${checkId("vetAppId", vetAppId)}_vet-${checkId("vetId", vetId)}`;
}

/** Parses an identity made by {@link userIdentity} or {@link vetIdentity}; anything else gives `null`. */
export function parseIdentity(s: string): ParsedIdentity | null {
  const vet = VET_RE.exec(s);
  if (vet) return toSafe(vet[1], vet[2], (appId, vetId) => ({ kind: "vet", appId, vetId }));
  const user = USER_RE.exec(s);
  if (user) return toSafe(user[2], user[3], (appId, userId) => ({ kind: "user", prefix: user[1], appId, userId }));
  return null;
}

function toSafe(a: string, b: string, make: (a: number, b: number) => ParsedIdentity): ParsedIdentity | null {
  const x = Number(a);
  const y = Number(b);
  // 16 digits can exceed 2^53: such an id never came from us.
  return Number.isSafeInteger(x) && Number.isSafeInteger(y) ? make(x, y) : null;
}
