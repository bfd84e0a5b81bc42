/**
 * PROTOCOL §7 REST limits over real HTTP, Redis and PostgreSQL: the per-app budget counts
 * only the app itself; failed authentication, unknown names and media-url are counted per
 * client address, before any lookup; TRUST_PROXY is a hop count.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { basicAuth, request, startTestGateway, type TestGateway } from "../../support/gateway.js";

const PARTNER_SECRET = "partner-secret-0123456789";
const from = (ip: string) => ({ "x-forwarded-for": ip });

describe("an attacker at another address (TRUST_PROXY=1)", () => {
  let gw: TestGateway;
  beforeAll(async () => {
    // These tests send dozens of refused requests one after another and count their answers:
    // the tarpit (which would hold each for a second) is off here and proven in tarpit.test.ts.
    gw = await startTestGateway({ redis: true, env: { TRUST_PROXY: "1", RATE_LIMIT_TARPIT_MS: "0" } });
    await gw.gateway.ctx.repos.apps.create({ name: "partner", secret: PARTNER_SECRET });
  });
  afterAll(async () => {
    await gw?.close();
  });

  const partnerCall = () =>
    request(gw.url, "POST", "/api/v2/partner/socket-token", {
      body: {},
      headers: { authorization: basicAuth("partner", PARTNER_SECRET), ...from("198.51.100.7") },
    });

  it("90 wrong secrets and 20 media-url calls never make the real partner see 429", async () => {
    const attacker = from("203.0.113.9");
    const wrong = { authorization: basicAuth("partner", "not-the-secret-000000"), ...attacker };
    const attackStatuses: number[] = [];
    const attackTimes: number[] = [];
    const partnerStatuses: number[] = [];
    // The partner's first request comes mid-attack, with a cold cache (it needs scrypt too).
    for (let i = 0; i < 90; i++) {
      const r = await request(gw.url, "POST", "/api/v2/partner/socket-token", { body: {}, headers: wrong });
      attackStatuses.push(r.status);
      attackTimes.push(Date.now());
      if (i % 15 === 14) partnerStatuses.push((await partnerCall()).status);
    }
    for (let i = 0; i < 20; i++) {
      attackStatuses.push((await request(gw.url, "GET", "/api/v2/partner/media-url", { headers: attacker })).status);
      attackTimes.push(Date.now());
    }
    partnerStatuses.push((await partnerCall()).status);
    const media = await request(gw.url, "GET", "/api/v2/partner/media-url", { headers: from("198.51.100.7") });

    expect(attackStatuses.slice(0, 60).every((s) => s === 401)).toBe(true);
    // Within the minute that began with the first failure, the rest are 429 (a slow machine
    // may roll the window over before the attack ends; later answers then start again at 401).
    const windowEnd = attackTimes[0] + 59_000;
    expect(
      attackStatuses
        .slice(60)
        .filter((_, i) => attackTimes[60 + i] < windowEnd)
        .every((s) => s === 429),
    ).toBe(true);
    // 422: authenticated, then the empty body fails validation. Never 429.
    expect(partnerStatuses).toEqual(Array(7).fill(422));
    expect(media.status).toBe(200);
    // The partner's own budget holds only its own requests.
    const last = await partnerCall();
    expect(last.headers.get("x-ratelimit-limit")).toBe("200");
    expect(last.headers.get("x-ratelimit-remaining")).toBe(String(200 - 8));
  }, 120_000);

  it("refuses an address already over its limit without counting in Redis again, with the limiter's own headers", async () => {
    const address = from("203.0.113.77");
    // media-url is counted per address like a failed authentication, without the scrypt cost.
    const media = () => request(gw.url, "GET", "/api/v2/partner/media-url", { headers: address });
    const statuses: number[] = [];
    for (let i = 0; i < 61; i++) statuses.push((await media()).status);
    expect(statuses).toEqual([...Array<number>(60).fill(200), 429]);
    const redis = gw.gateway.ctx.redisCommands!;
    const count = () => redis.sendCommand<string | null>(["GET", `${gw.redisPrefix}rl-unauth:ip:203.0.113.77`]);
    expect(await count()).toBe("61");
    const wrong = { authorization: basicAuth("partner", "not-the-secret-000000"), ...address };
    const later = [];
    for (let i = 0; i < 10; i++) later.push(await media());
    for (let i = 0; i < 10; i++)
      later.push(await request(gw.url, "GET", "/api/v2/partner/pet/list?email=a@b.c", { headers: wrong }));
    expect(later.every((r) => r.status === 429 && r.body.status_code === 429)).toBe(true);
    // This node answered those itself: the shared count did not move.
    expect(await count()).toBe("61");
    const last = later.at(-1)!;
    expect(last.headers.get("retry-after")).toBe("60");
    expect(last.headers.get("x-ratelimit-limit")).toBe("60");
    expect(last.headers.get("x-ratelimit-remaining")).toBe("0");
    const reset = Number(last.headers.get("x-ratelimit-reset"));
    expect(reset).toBeGreaterThan(Date.now() / 1000);
    expect(reset).toBeLessThanOrEqual(Math.ceil(Date.now() / 1000) + 60);
    expect(last.headers.get("x-content-type-options")).toBe("nosniff");
    // Another address is not affected.
    expect((await request(gw.url, "GET", "/api/v2/partner/media-url", { headers: from("203.0.113.78") })).status).toBe(
      200,
    );
  }, 60_000);

  it("unknown app names cost no query each: the apps table is read once for a burst, and a flood of names stops at the limit", async () => {
    const apps = gw.gateway.ctx.repos.apps;
    const original = { listForAuth: apps.listForAuth.bind(apps), findByName: apps.findByName.bind(apps) };
    const calls = { tableReads: 0, nameLookups: 0 };
    apps.listForAuth = () => {
      calls.tableReads++;
      return original.listForAuth();
    };
    apps.findByName = (name: string) => {
      calls.nameLookups++;
      return original.findByName(name);
    };
    try {
      gw.gateway.ctx.appAuth.forget();
      const started = Date.now();
      const burst = await Promise.all(
        Array.from({ length: 30 }, (_, i) =>
          request(gw.url, "POST", "/api/v2/ghost-app/socket-token", { body: {}, headers: from(`192.0.2.${i + 1}`) }),
        ),
      );
      expect(burst.every((r) => r.status === 404 && r.body.message[0] === "App Not Found")).toBe(true);
      for (let i = 0; i < 20; i++) {
        expect(
          (await request(gw.url, "GET", "/api/v2/ghost-app/media-url", { headers: from(`192.0.2.${i + 100}`) })).status,
        ).toBe(404);
      }
      // 100 distinct unknown names from one address: 404 until the address is limited, then 429.
      const statuses: number[] = [];
      for (let i = 0; i < 100; i++) {
        statuses.push(
          (await request(gw.url, "POST", `/api/v2/probe-${i}/pet/list`, { headers: from("203.0.113.50") })).status,
        );
      }
      expect(statuses.filter((s) => s === 404)).toHaveLength(60);
      expect(statuses.slice(60).every((s) => s === 429)).toBe(true);
      // One read of the whole table per 5 s however many names; never a query per name.
      expect(calls.nameLookups).toBe(0);
      expect(calls.tableReads).toBeGreaterThanOrEqual(1);
      expect(calls.tableReads).toBeLessThanOrEqual(1 + Math.floor((Date.now() - started) / 5_000));
      // The real app still answers its own caller.
      expect((await partnerCall()).status).toBe(422);
    } finally {
      Object.assign(apps, original);
    }
  });
});

describe("spoofed X-Forwarded-For with TRUST_PROXY=0", () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway({ db: "pglite", env: { RATE_LIMIT_UNAUTH_PER_MIN: "5" } });
    await gw.gateway.ctx.repos.apps.create({ name: "partner", secret: PARTNER_SECRET });
  });
  afterAll(async () => {
    await gw?.close();
  });

  it("does not bypass the per-address limit by changing the header", async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 8; i++) {
      const r = await request(gw.url, "GET", "/api/v2/partner/media-url", { headers: from(`10.0.0.${i}`) });
      statuses.push(r.status);
    }
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429, 429, 429]);
  });

  it("refuses TRUST_PROXY=true at start", async () => {
    const { loadConfig } = await import("../../../src/config.js");
    expect(() => loadConfig({ TRUST_PROXY: "true" })).toThrow(/TRUST_PROXY: must be a hop count/);
    expect(loadConfig({ TRUST_PROXY: "2" }).trustProxy).toBe(2);
    expect(loadConfig({}).trustProxy).toBe(0);
  });
});
