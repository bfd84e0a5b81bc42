/**
 * PROTOCOL §7 "Safe defaults" on a running gateway: no published secret signs anything, the
 * admin token guards `/metrics` and is checked before a body is read, failed admin attempts
 * are limited per address, the default Socket.IO namespace refuses everyone, and a forwarded
 * address while TRUST_PROXY=0 is warned about once.
 */
import { statSync, readFileSync } from "node:fs";
import path from "node:path";
import { io } from "socket.io-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GATEWAY_SECRET_FILE } from "../../src/auth/gateway-secret.js";
import { SocketTokens } from "../../src/auth/socket-tokens.js";
import { systemClock } from "../../src/lib/clock.js";
import { capturingLogger, request, startTestGateway, TEST_ADMIN_TOKEN, type TestGateway } from "../support/gateway.js";
import { seedApp, seedUser, seedVet } from "../support/actors.js";

/** The development secret earlier builds printed in `src/config.ts` and used when GATEWAY_SECRET was unset. */
const PUBLISHED_DEV_SECRET = "dev-gateway-secret-change-me-in-production-000000";
const METRICS_TOKEN = "metrics-scraper-token-0123456789abcdef";

/** `connect_error` message of a handshake, or "connected". */
function handshake(url: string, token?: string): Promise<string> {
  return new Promise((resolve) => {
    const socket = io(url, {
      auth: token ? { token } : {},
      transports: ["websocket"],
      reconnection: false,
      timeout: 5_000,
    });
    socket.on("connect", () => {
      socket.close();
      resolve("connected");
    });
    socket.on("connect_error", (err) => {
      socket.close();
      resolve(err.message);
    });
  });
}

describe("an embedded gateway started with no variable at all", () => {
  let gw: TestGateway;
  beforeAll(async () => {
    // GATEWAY_SECRET="" is unset (blank values are ignored).
    gw = await startTestGateway({ db: "pglite", env: { GATEWAY_SECRET: "" } });
  });
  afterAll(async () => {
    await gw?.close();
  });

  it("signs with a secret it generated into DATA_DIR (mode 0600), not one printed in the source", () => {
    const file = path.join(gw.config.dataDir, GATEWAY_SECRET_FILE);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const kept = readFileSync(file, "utf8").trim();
    expect(kept.length).toBeGreaterThanOrEqual(43);
    expect(gw.gateway.ctx.config.gatewaySecret).toBe(kept);
    expect(kept).not.toBe(PUBLISHED_DEV_SECRET);
  });

  it("refuses a vet token forged with the secret earlier builds published", async () => {
    const vet = await seedVet(gw.gateway, "forged");
    const forged = await new SocketTokens(PUBLISHED_DEV_SECRET, 3600, systemClock).issueVetLogin(vet);
    expect(await handshake(`${gw.url}/vet`, forged.token)).toBe("unauthorized");
    // The vet's own token, signed with the generated secret, opens the namespace.
    expect(await handshake(`${gw.url}/vet`, vet.token)).toBe("connected");
  });

  it("a second start on the same DATA_DIR keeps the secret, so sessions survive a restart", async () => {
    const again = await startTestGateway({ db: "pglite", env: { GATEWAY_SECRET: "", DATA_DIR: gw.config.dataDir } });
    try {
      expect(again.gateway.ctx.config.gatewaySecret).toBe(gw.gateway.ctx.config.gatewaySecret);
    } finally {
      await again.close();
    }
  });
});

describe("admin token, metrics and the default namespace", () => {
  let gw: TestGateway;
  const logs = capturingLogger("warn");
  beforeAll(async () => {
    gw = await startTestGateway({ logger: logs.logger, env: { METRICS_TOKEN, RATE_LIMIT_UNAUTH_PER_MIN: "5" } });
  });
  afterAll(async () => {
    await gw?.close();
  });

  it("/metrics answers only to ADMIN_TOKEN or METRICS_TOKEN", async () => {
    const get = (authorization?: string) =>
      fetch(`${gw.url}/metrics`, { headers: authorization ? { authorization } : {} });
    expect((await get()).status).toBe(401);
    expect((await get(`Bearer ${METRICS_TOKEN}x`)).status).toBe(401);
    const body = await (await get(`Bearer ${TEST_ADMIN_TOKEN}`)).text();
    expect(body).toContain("http_request_duration_seconds");
    expect((await get(`Bearer ${METRICS_TOKEN}`)).status).toBe(200);
    // The metrics token administers nothing.
    expect(
      (await request(gw.url, "GET", "/admin/v1/stats", { headers: { authorization: `Bearer ${METRICS_TOKEN}` } }))
        .status,
    ).toBe(401);
  });

  it("checks the admin token before reading a body: a wrong token with broken or huge JSON is 401, not 400 or 413", async () => {
    const wrong = { authorization: "Bearer not-the-admin-token-0123456789abcdef", "content-type": "application/json" };
    const broken = await request(gw.url, "POST", "/admin/v1/apps", { headers: wrong, raw: "{not json" });
    expect(broken.status).toBe(401);
    const huge = await request(gw.url, "POST", "/admin/v1/apps", {
      headers: wrong,
      raw: `{"name":"${"x".repeat(2 * 1024 * 1024)}"}`,
    });
    expect(huge.status).toBe(401);
    // With the right token the same bodies are read and refused for what they are.
    const right = { authorization: `Bearer ${TEST_ADMIN_TOKEN}`, "content-type": "application/json" };
    expect((await request(gw.url, "POST", "/admin/v1/apps", { headers: right, raw: "{not json" })).status).toBe(400);
  });

  it("limits failed admin attempts per address (429 after RATE_LIMIT_UNAUTH_PER_MIN); the right token is never refused", async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 8; i++) {
      statuses.push(
        (
          await request(gw.url, "GET", "/admin/v1/stats", {
            headers: { authorization: `Bearer wrong-admin-token-${i}-0123456789abcdef` },
          })
        ).status,
      );
    }
    // Two failures were counted by the previous test from this address.
    expect(statuses.slice(-3)).toEqual([429, 429, 429]);
    expect(statuses.filter((s) => s !== 401 && s !== 429)).toEqual([]);
    const refused = await request(gw.url, "GET", "/admin/v1/stats", {
      headers: { authorization: "Bearer wrong-admin-token-0123456789abcdef" },
    });
    expect(refused.headers.get("retry-after")).toBe("60");
    expect(
      (await request(gw.url, "GET", "/admin/v1/stats", { headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` } }))
        .status,
    ).toBe(200);
  });

  it("the default namespace '/' refuses every connection, with or without a valid token", async () => {
    const app = await seedApp(gw.gateway);
    const owner = await seedUser(gw.gateway, app.id, "rootns");
    expect(await handshake(gw.url)).toBe("unauthorized");
    expect(await handshake(gw.url, owner.token)).toBe("unauthorized");
    expect(await handshake(`${gw.url}/user`, owner.token)).toBe("connected");
  });

  it("warns once when X-Forwarded-For arrives while TRUST_PROXY=0", async () => {
    for (let i = 0; i < 3; i++)
      await request(gw.url, "GET", "/healthz", { headers: { "x-forwarded-for": `203.0.113.${i}` } });
    const warnings = logs.lines.filter((l) => String(l.msg).includes("X-Forwarded-For arrived while TRUST_PROXY=0"));
    expect(warnings).toHaveLength(1);
  });
});
