import { createHmac, createSecretKey, randomBytes, timingSafeEqual, type KeyObject } from "node:crypto";
import { deriveKey } from "./gateway-secret.js";

/**
 * Keyed verifiers of app secrets: `v1.{keyId}.{HMAC-SHA256(key, name \0 secret)}` with a key
 * derived from `GATEWAY_SECRET`, stored beside the scrypt hash (`apps.secret_verifier`).
 *
 * Why: a request's credentials are then checked with one HMAC on every node, from its first
 * request after a restart, so a partner is never sent through the per-address limit that
 * guards scrypt (PROTOCOL §7: a partner is never refused for other clients' failures), and a
 * wrong secret costs no scrypt at all. The scrypt hash stays the record: a verifier made
 * under another key (the gateway secret changed) is stale, and the next scrypt success
 * replaces it. A database copy alone reveals nothing (the key is not in it).
 */
export class AppSecretVerifier {
  private readonly key: KeyObject;
  /** Names the key a verifier was made with, so a changed gateway secret is noticed. */
  readonly keyId: string;

  constructor(gatewaySecret: string) {
    const raw = deriveKey(gatewaySecret, "app-secret-verifier");
    this.key = createSecretKey(raw);
    this.keyId = createHmac("sha256", raw).update("key-id").digest("base64url").slice(0, 8);
  }

  /** The verifier of `secret` for the app named `name`. */
  make(name: string, secret: string): string {
    return `v1.${this.keyId}.${this.mac(name, secret).toString("base64url")}`;
  }

  /** True when `stored` was made with this key (so {@link matches} can decide alone). */
  isCurrent(stored: string | null): stored is string {
    return stored !== null && stored.startsWith(`v1.${this.keyId}.`);
  }

  /** Constant-time: does `secret` match the current verifier `stored` of app `name`? */
  matches(stored: string, name: string, secret: string): boolean {
    const expected = Buffer.from(stored.slice(`v1.${this.keyId}.`.length), "base64url");
    const actual = this.mac(name, secret);
    return expected.length === actual.length && timingSafeEqual(expected, actual);
  }

  private mac(name: string, secret: string): Buffer {
    return createHmac("sha256", this.key).update(`${name}\0`).update(secret, "utf8").digest();
  }
}

/** A new app secret: 32 random bytes, base64url (43 characters). */
export function generateAppSecret(): string {
  return randomBytes(32).toString("base64url");
}
