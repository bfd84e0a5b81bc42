/**
 * Webhook signing secrets (PROTOCOL §9): `whsec_` + base64 of 24 random bytes, the Standard
 * Webhooks format. The gateway must sign with the secret itself, so it cannot keep only a
 * hash: it stores the secret encrypted (AES-256-GCM, a key derived from `GATEWAY_SECRET`),
 * never in plain text. A copy of the database alone reveals no secret.
 */
import { createCipheriv, createDecipheriv, randomBytes, type KeyObject, createSecretKey } from "node:crypto";
import { deriveKey } from "../auth/gateway-secret.js";

/** A new signing secret, shown once to the operator. */
export function generateWebhookSecret(): string {
  return `whsec_${randomBytes(24).toString("base64")}`;
}

/** Encrypts and decrypts webhook secrets for storage (`apps.webhook_secret_enc`). */
export class WebhookSecretBox {
  private readonly key: KeyObject;

  constructor(gatewaySecret: string) {
    this.key = createSecretKey(deriveKey(gatewaySecret, "webhook-secret"));
  }

  /** `v1.{iv}.{tag}.{ciphertext}`, base64url parts. */
  seal(secret: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv("aes-256-gcm", this.key, iv);
    const data = Buffer.concat([cipher.update(secret, "utf8"), cipher.final()]);
    return ["v1", iv.toString("base64url"), cipher.getAuthTag().toString("base64url"), data.toString("base64url")].join(
      ".",
    );
  }

  /** The secret, or null when `sealed` was made with another key or was tampered with. */
  open(sealed: string): string | null {
    const [version, iv, tag, data] = sealed.split(".");
    if (version !== "v1" || iv === undefined || tag === undefined || data === undefined) return null;
    try {
      const decipher = createDecipheriv("aes-256-gcm", this.key, Buffer.from(iv, "base64url"));
      decipher.setAuthTag(Buffer.from(tag, "base64url"));
      return Buffer.concat([decipher.update(Buffer.from(data, "base64url")), decipher.final()]).toString("utf8");
    } catch {
      return null;
    }
  }
}
