/** PROTOCOL §7 "Safe defaults": the generated gateway secret and the keys derived from it. */
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import {
  deriveKey,
  GATEWAY_SECRET_FILE,
  loadOrCreateGatewaySecret,
  readGatewaySecret,
  resolveSecrets,
} from "../../src/auth/gateway-secret.js";
import { loadConfig } from "../../src/config.js";

const dirs: string[] = [];
const tempDir = () => {
  const d = mkdtempSync(path.join(os.tmpdir(), "vcg-secret-"));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe("the generated gateway secret", () => {
  it("is made once (32 random bytes, mode 0600), then read back; two installations never share one", () => {
    const dir = tempDir();
    const first = loadOrCreateGatewaySecret(path.join(dir, "nested"));
    expect(first).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const file = path.join(dir, "nested", GATEWAY_SECRET_FILE);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(loadOrCreateGatewaySecret(path.join(dir, "nested"))).toBe(first);
    expect(readGatewaySecret(path.join(dir, "nested"))).toBe(first);
    expect(loadOrCreateGatewaySecret(tempDir())).not.toBe(first);
  });

  it("tightens a kept file's permissions and refuses one too short to be a secret", () => {
    const dir = tempDir();
    const file = path.join(dir, GATEWAY_SECRET_FILE);
    writeFileSync(file, `${"k".repeat(40)}\n`);
    chmodSync(file, 0o644);
    expect(loadOrCreateGatewaySecret(dir)).toBe("k".repeat(40));
    expect(statSync(file).mode & 0o777).toBe(0o600);
    writeFileSync(file, "short\n");
    expect(() => loadOrCreateGatewaySecret(dir)).toThrow(/fewer than 32 characters/);
  });

  it("the CLI only reads it: no file, no secret", () => {
    expect(readGatewaySecret(tempDir())).toBeUndefined();
  });

  it("resolveSecrets: a set GATEWAY_SECRET wins; unset, the kept one; offline Twilio signs with a key derived from it", () => {
    const dir = tempDir();
    const set = resolveSecrets(loadConfig({ DATA_DIR: dir, GATEWAY_SECRET: "g".repeat(40) }));
    expect(set.gatewaySecret).toBe("g".repeat(40));
    expect(() => readFileSync(path.join(dir, GATEWAY_SECRET_FILE))).toThrow();
    const generated = resolveSecrets(loadConfig({ DATA_DIR: dir }));
    expect(generated.gatewaySecret).toBe(readFileSync(path.join(dir, GATEWAY_SECRET_FILE), "utf8").trim());
    expect(generated.twilio.apiSecret).toBe(
      deriveKey(generated.gatewaySecret, "twilio-offline-api-secret").toString("base64url"),
    );
    expect(generated.twilio.apiSecret).not.toBe(set.twilio.apiSecret);
    // A Twilio secret that is set is used as it is.
    expect(
      resolveSecrets(loadConfig({ DATA_DIR: dir, TWILIO_API_SECRET: "twilio-secret-from-env" })).twilio.apiSecret,
    ).toBe("twilio-secret-from-env");
  });

  it("derives a different key per purpose", () => {
    const a = deriveKey("s".repeat(32), "app-secret-verifier");
    expect(a).toHaveLength(32);
    expect(a.equals(deriveKey("s".repeat(32), "twilio-offline-api-secret"))).toBe(false);
    expect(a.equals(deriveKey("t".repeat(32), "app-secret-verifier"))).toBe(false);
    expect(a.equals(deriveKey("s".repeat(32), "app-secret-verifier"))).toBe(true);
  });
});
