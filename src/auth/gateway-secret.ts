/**
 * `GATEWAY_SECRET` and the keys derived from it (PROTOCOL §7 "Safe defaults"). Unset on a
 * single embedded node, a random secret is made on first start and kept in `DATA_DIR`, so
 * restarts keep sessions and no two installations share one. (With `REDIS_URL` the
 * configuration refuses to start without it: all nodes must share one.)
 */
import { chmodSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { hkdfSync, randomBytes } from "node:crypto";
import path from "node:path";
import type { Config, ResolvedConfig } from "../config.js";

/** The file under `DATA_DIR` that keeps a generated secret. */
export const GATEWAY_SECRET_FILE = "gateway-secret";

/** The secret in `dataDir/gateway-secret`, made when absent (see {@link loadOrCreateSecretFile}). */
export function loadOrCreateGatewaySecret(dataDir: string): string {
  return loadOrCreateSecretFile(dataDir, GATEWAY_SECRET_FILE);
}

/**
 * The secret kept in `dataDir/{name}`, made (32 random bytes, base64url, mode 0600) when
 * absent. Two processes starting at once agree: the file is created exclusively, and the one
 * that loses reads the winner's.
 */
export function loadOrCreateSecretFile(dataDir: string, name: string): string {
  mkdirSync(dataDir, { recursive: true });
  const file = path.join(dataDir, name);
  try {
    writeFileSync(file, `${randomBytes(32).toString("base64url")}\n`, { flag: "wx", mode: 0o600 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
  }
  // Tighten a copy restored with looser permissions: only the gateway's user may read it.
  if ((statSync(file).mode & 0o077) !== 0) chmodSync(file, 0o600);
  const secret = readFileSync(file, "utf8").trim();
  if (secret.length < 32) throw new Error(`${file} holds fewer than 32 characters; delete it to make a new one`);
  return secret;
}

/** The secret in `dataDir/gateway-secret` when that file exists (the CLI never creates one). */
export function readGatewaySecret(dataDir: string): string | undefined {
  try {
    return readFileSync(path.join(dataDir, GATEWAY_SECRET_FILE), "utf8").trim() || undefined;
  } catch {
    return undefined;
  }
}

/**
 * A 32-byte key for one `purpose` (HKDF-SHA256 of the gateway secret), so app secret
 * verifiers and offline Twilio tokens never share a key with each other or with socket
 * tokens (signed with the secret itself), and none reveals another.
 */
export function deriveKey(gatewaySecret: string, purpose: string): Buffer {
  return Buffer.from(hkdfSync("sha256", gatewaySecret, "vet-consultation-gateway", purpose, 32));
}

/**
 * The configuration with its secrets settled: `GATEWAY_SECRET` as set or kept in `DATA_DIR`
 * (made on first start), and in offline mode a Twilio API secret derived from it (offline
 * tokens are never checked by Twilio; a derived one keeps any printed value from signing).
 */
export function resolveSecrets(config: Config): ResolvedConfig {
  const gatewaySecret = config.gatewaySecret ?? loadOrCreateGatewaySecret(config.dataDir);
  const apiSecret =
    config.twilio.apiSecret ?? deriveKey(gatewaySecret, "twilio-offline-api-secret").toString("base64url");
  return { ...config, gatewaySecret, twilio: { ...config.twilio, apiSecret } };
}
