import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { ConfigError, configSchema, loadConfig } from "../src/config.js";

function configError(env: Record<string, string>): ConfigError {
  try {
    loadConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error("expected a ConfigError");
}

describe("configuration", () => {
  it("has working defaults with an empty environment", () => {
    const c = loadConfig({});
    expect(c.env).toBe("development");
    expect(c.port).toBe(3000);
    expect(c.host).toBe("0.0.0.0");
    expect(c.dataDir).toBe("./data");
    expect(c.databaseUrl).toBeUndefined();
    expect(c.redisUrl).toBeUndefined();
    expect(c.adminToken).toBeUndefined();
    expect(c.rateLimitPerMin).toBe(200);
    // No printed secret: an embedded node makes its own (test/auth/gateway-secret.test.ts).
    expect(c.gatewaySecret).toBeUndefined();
    expect(c.twilio.apiSecret).toBeUndefined();
    expect(c.vetSessionMaxS).toBe(43_200);
    expect(c.twilio).toMatchObject({ mode: "offline", tokenTtlS: 3600, identityPrefix: "local", vetAppId: 1 });
    expect(c.routing).toEqual({
      vetMaxConsults: 1,
      offerTimeoutMs: 30_000,
      queueTimeoutMs: 600_000,
      userGraceMs: 60_000,
      presenceTtlMs: 15_000,
      wrapupMs: 60_000,
      vetGraceMs: 60_000,
      languageWaitMs: 60_000,
      priorityAgingMs: 300_000,
      maxQueuedPerApp: 0,
      licensing: false,
      licenseWaitMs: 120_000,
      transferTimeoutMs: 120_000,
    });
  });

  it("treats blank optional values as unset", () => {
    const c = loadConfig({ ADMIN_TOKEN: "  ", DATABASE_URL: "", REDIS_URL: "" });
    expect(c.adminToken).toBeUndefined();
    expect(c.databaseUrl).toBeUndefined();
    expect(c.redisUrl).toBeUndefined();
  });

  it("caps TOKEN_TTL_S at 86400", () => {
    expect(loadConfig({ TOKEN_TTL_S: "100000" }).twilio.tokenTtlS).toBe(86_400);
    expect(loadConfig({ TOKEN_TTL_S: "86400" }).twilio.tokenTtlS).toBe(86_400);
    expect(loadConfig({ TOKEN_TTL_S: "600" }).twilio.tokenTtlS).toBe(600);
  });

  it("refuses a bad value with one line naming the variable", () => {
    for (const [name, value] of [
      ["PORT", "abc"],
      ["PORT", "70000"],
      ["RATE_LIMIT_PER_MIN", "0"],
      ["TOKEN_TTL_S", "-5"],
      ["LOG_LEVEL", "loud"],
      ["TWILIO_MODE", "sometimes"],
    ] as const) {
      const err = configError({ [name]: value });
      expect(err.message).toContain(name);
      expect(err.message).not.toContain("\n");
      expect(err.message).toMatch(/^invalid configuration: /);
    }
  });

  it("requires GATEWAY_SECRET (of at least 32 characters) in production", () => {
    const missing = configError({ NODE_ENV: "production" });
    expect(missing.message).toContain("GATEWAY_SECRET");
    expect(missing.message).not.toContain("\n");
    expect(configError({ NODE_ENV: "production", GATEWAY_SECRET: "too-short" }).message).toContain("GATEWAY_SECRET");
    const c = loadConfig({ NODE_ENV: "production", GATEWAY_SECRET: "s".repeat(32) });
    expect(c.env).toBe("production");
    expect(c.gatewaySecret).toBe("s".repeat(32));
  });

  it("requires GATEWAY_SECRET with REDIS_URL: all nodes must share one", () => {
    const err = configError({ REDIS_URL: "redis://127.0.0.1:6379" });
    expect(err.message).toContain("GATEWAY_SECRET");
    expect(err.message).toContain("REDIS_URL");
    expect(loadConfig({ REDIS_URL: "redis://127.0.0.1:6379", GATEWAY_SECRET: "s".repeat(32) }).gatewaySecret).toBe(
      "s".repeat(32),
    );
  });

  it("refuses ADMIN_TOKEN and METRICS_TOKEN shorter than 32 characters", () => {
    expect(configError({ ADMIN_TOKEN: "a".repeat(31) }).message).toMatch(/ADMIN_TOKEN: must be at least 32 characters/);
    expect(configError({ METRICS_TOKEN: "short" }).message).toMatch(/METRICS_TOKEN: must be at least 32 characters/);
    expect(loadConfig({ ADMIN_TOKEN: "a".repeat(32), METRICS_TOKEN: "m".repeat(40) })).toMatchObject({
      adminToken: "a".repeat(32),
      metricsToken: "m".repeat(40),
    });
  });

  it("refuses demo mode in production", () => {
    for (const DEMO of ["1", "true"]) {
      expect(configError({ NODE_ENV: "production", GATEWAY_SECRET: "s".repeat(32), DEMO }).message).toMatch(
        /DEMO: is refused when NODE_ENV=production/,
      );
    }
    expect(loadConfig({ NODE_ENV: "production", GATEWAY_SECRET: "s".repeat(32), DEMO: "0" }).demo).toBe(false);
  });

  it("takes VET_SESSION_MAX_S (60 s … 30 days)", () => {
    expect(loadConfig({ VET_SESSION_MAX_S: "3600" }).vetSessionMaxS).toBe(3600);
    expect(configError({ VET_SESSION_MAX_S: "10" }).message).toContain("VET_SESSION_MAX_S");
  });

  it("requires Twilio credentials in live mode", () => {
    expect(configError({ TWILIO_MODE: "live" }).message).toContain("TWILIO_MODE");
  });

  it("is documented: the configuration table of docs/operations.md lists exactly the variables read", () => {
    const page = readFileSync(new URL("../docs/operations.md", import.meta.url), "utf8");
    const section = page.slice(
      page.indexOf("## Configuration"),
      page.indexOf("\n## ", page.indexOf("## Configuration") + 1),
    );
    const documented = [...section.matchAll(/^\| `([A-Z][A-Z0-9_]*)` \|/gm)].map((m) => m[1]).sort();
    expect(documented).toEqual(Object.keys(configSchema.shape).sort());
  });

  it("defaults REDIS_COMMAND_TIMEOUT_MS to 5 s and accepts 0 (no deadline)", () => {
    expect(loadConfig({}).redisCommandTimeoutMs).toBe(5_000);
    expect(loadConfig({ REDIS_COMMAND_TIMEOUT_MS: "0" }).redisCommandTimeoutMs).toBe(0);
    expect(configError({ REDIS_COMMAND_TIMEOUT_MS: "-1" }).message).toContain("REDIS_COMMAND_TIMEOUT_MS");
  });

  it("defaults the tarpit to 1 s and 1,000 held; RATE_LIMIT_TARPIT_MS=0 turns it off", () => {
    expect(loadConfig({}).tarpit).toEqual({ delayMs: 1_000, maxHeld: 1_000 });
    expect(loadConfig({ RATE_LIMIT_TARPIT_MS: "0", RATE_LIMIT_TARPIT_MAX: "5" }).tarpit).toEqual({
      delayMs: 0,
      maxHeld: 5,
    });
    expect(configError({ RATE_LIMIT_TARPIT_MS: "-1" }).message).toContain("RATE_LIMIT_TARPIT_MS");
    expect(configError({ RATE_LIMIT_TARPIT_MAX: "0" }).message).toContain("RATE_LIMIT_TARPIT_MAX");
  });

  it("takes OUTCOMES: the default list, a custom one (spaces trimmed); refuses empty, upper-case, odd characters and duplicates", () => {
    expect(loadConfig({}).outcomes).toEqual([
      "resolved",
      "follow_up",
      "clinic_visit",
      "emergency_referral",
      "no_show",
      "other",
    ]);
    expect(loadConfig({ OUTCOMES: " fixed , referred_2 ,other" }).outcomes).toEqual(["fixed", "referred_2", "other"]);
    expect(loadConfig({ OUTCOMES: "done" }).outcomes).toEqual(["done"]);
    expect(configError({ OUTCOMES: "" }).message).toMatch(/OUTCOMES: must list at least one outcome/);
    expect(configError({ OUTCOMES: "resolved,Follow_Up" }).message).toMatch(
      /OUTCOMES: must be lower-case identifiers.*"Follow_Up"/,
    );
    expect(configError({ OUTCOMES: "resolved,,other" }).message).toContain("OUTCOMES");
    expect(configError({ OUTCOMES: "resolved,clinic-visit" }).message).toContain('"clinic-visit"');
    expect(configError({ OUTCOMES: "1st" }).message).toContain("OUTCOMES");
    expect(configError({ OUTCOMES: "resolved,other,resolved" }).message).toMatch(
      /OUTCOMES: lists resolved more than once/,
    );
  });
});
