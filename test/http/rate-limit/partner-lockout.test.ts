/**
 * PROTOCOL §7: a partner that authenticates is never refused for other clients' failures,
 * also when every request arrives from one address (a load balancer with TRUST_PROXY=0):
 * for any length of attack, across the expiry of every cache, and on a node that just started.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { basicAuth, request, startTestGateway, TEST_ADMIN_TOKEN, type TestGateway } from "../../support/gateway.js";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("one address for everyone (TRUST_PROXY=0, behind a load balancer)", () => {
  let gw: TestGateway;
  let secret: string;
  beforeAll(async () => {
    // Two nodes on one Redis: the per-address count is shared, each node has its own caches.
    gw = await startTestGateway({
      redis: true,
      nodes: 2,
      env: { RATE_LIMIT_UNAUTH_PER_MIN: "5", RATE_LIMIT_TARPIT_MS: "0" },
    });
    secret = "partner-secret-behind-the-balancer-0123";
    const created = await request(gw.url, "POST", "/admin/v1/apps", {
      headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` },
      body: { name: "partner", secret },
    });
    expect(created.status).toBe(201);
  });
  afterAll(async () => {
    await gw?.close();
  });

  const partner = (url: string) =>
    request(url, "POST", "/api/v2/partner/socket-token", {
      body: {},
      headers: { authorization: basicAuth("partner", secret) },
    });
  const attacker = (url: string, i: number) =>
    request(url, "POST", "/api/v2/partner/socket-token", {
      body: {},
      headers: { authorization: basicAuth("partner", `wrong-secret-${i}-000000`) },
    });

  it("wrong secrets from the shared address are refused; the partner's requests all go through, before and after every cache expires, on either node", async () => {
    const [first, second] = gw.urls;
    const partnerStatuses: number[] = [];
    const attackStatuses: number[] = [];
    const started = Date.now();
    let i = 0;
    // 7 s of attack: past the 5 s for which a node uses its read of the apps table.
    while (Date.now() - started < 7_000) {
      attackStatuses.push((await attacker(first, i++)).status);
      if (i % 10 === 0) partnerStatuses.push((await partner(first)).status);
      await sleep(20);
    }
    // The second node has served nobody yet: its first sight of the partner comes mid-attack,
    // with the address already over its limit in Redis.
    partnerStatuses.push((await partner(second)).status);
    attackStatuses.push((await attacker(second, i++)).status);

    expect(attackStatuses.slice(0, 5).every((s) => s === 401)).toBe(true);
    expect(attackStatuses.slice(5).every((s) => s === 429)).toBe(true);
    // 422: authenticated, then the empty body fails validation. Never 429, never 401.
    expect(partnerStatuses.length).toBeGreaterThan(10);
    expect(new Set(partnerStatuses)).toEqual(new Set([422]));
  }, 30_000);
});
