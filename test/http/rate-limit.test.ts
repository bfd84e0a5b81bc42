import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { basicAuth, request, startTestGateway, type TestGateway } from "../support/gateway.js";

describe("per-app rate limit shared by two nodes on one Redis", () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway({ redis: true, nodes: 2, env: { RATE_LIMIT_PER_MIN: "5" } });
    await gw.gateway.ctx.repos.apps.create({ name: "limited", secret: "limited-secret-0123456789" });
    await gw.gateway.ctx.repos.apps.create({ name: "neighbour", secret: "neighbour-secret-0123456789" });
  });
  afterAll(async () => {
    await gw?.close();
  });

  it("counts requests on both nodes together: the 6th in a minute is 429", async () => {
    expect(gw.urls).toHaveLength(2);
    const statuses: number[] = [];
    const remaining: Array<string | null> = [];
    for (let i = 0; i < 6; i++) {
      const res = await request(gw.urls[i % 2], "POST", "/api/v2/limited/socket-token", {
        body: {},
        headers: { authorization: basicAuth("limited", "limited-secret-0123456789") },
      });
      statuses.push(res.status);
      remaining.push(res.headers.get("x-ratelimit-remaining"));
      expect(res.headers.get("x-ratelimit-limit")).toBe("5");
      if (res.status === 429) {
        expect(res.body).toEqual({ success: false, status_code: 429, message: ["Too Many Requests"], data: [] });
      }
    }
    expect(statuses.slice(0, 5).every((s) => s !== 429)).toBe(true);
    expect(statuses[5]).toBe(429);
    expect(remaining).toEqual(["4", "3", "2", "1", "0", "0"]);

    // The budget is per app: another app is unaffected.
    const other = await request(gw.urls[1], "POST", "/api/v2/neighbour/socket-token", {
      body: {},
      headers: { authorization: basicAuth("neighbour", "neighbour-secret-0123456789") },
    });
    expect(other.status).not.toBe(429);
    expect(other.headers.get("x-ratelimit-remaining")).toBe("4");
  });
});
