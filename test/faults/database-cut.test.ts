/**
 * PROTOCOL §6 deadlines: the gateway reaches PostgreSQL through a TCP proxy that the test
 * cuts. `/readyz` turns 503 and back; REST calls fail fast with a 503 envelope, not hang.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Gateway } from "../../src/server.js";
import { basicAuth, request, startGatewayBehindDbProxy, type GatewayBehindProxy } from "../support/gateway.js";
import type { TcpProxy } from "../support/tcp-proxy.js";

const TIMEOUT_MS = 1000;
const SECRET = "cut-app-secret-0123456789";

describe("PostgreSQL cut behind a proxy", () => {
  let env: GatewayBehindProxy;
  let proxy: TcpProxy;
  let gw: Gateway;
  let url: string;

  beforeAll(async () => {
    env = await startGatewayBehindDbProxy("dbcut", {
      DATABASE_TIMEOUT_MS: String(TIMEOUT_MS),
    });
    ({ gw, url, proxy } = env);
    await gw.ctx.repos.apps.create({ name: "cutapp", secret: SECRET });
  });
  afterAll(async () => {
    await env?.close();
  });

  const petList = () =>
    request(url, "GET", "/api/v2/cutapp/pet/list?email=nobody@example.com", {
      headers: { authorization: basicAuth("cutapp", SECRET) },
    });

  it.each(["refuse", "stall"] as const)(
    "/readyz is 503 while the link is cut (%s) and 200 once restored",
    async (mode) => {
      expect((await request(url, "GET", "/readyz")).status).toBe(200);
      proxy.cut(mode);
      try {
        const started = Date.now();
        const down = await request(url, "GET", "/readyz");
        expect(down.status).toBe(503);
        expect(down.body).toMatchObject({ success: false, status_code: 503, data: { database: "down" } });
        expect(Date.now() - started).toBeLessThan(TIMEOUT_MS + 1500);
      } finally {
        proxy.restore();
      }
      await expect.poll(async () => (await request(url, "GET", "/readyz")).status, { timeout: 10_000 }).toBe(200);
    },
  );

  it.each(["refuse", "stall"] as const)(
    "a REST call during a cut (%s) gets a 503 envelope within DATABASE_TIMEOUT_MS, then works again",
    async (mode) => {
      // Warm: the app is known and the owner lookup answers 404 through the database.
      expect((await petList()).status).toBe(404);
      proxy.cut(mode);
      try {
        const started = Date.now();
        const res = await petList();
        const took = Date.now() - started;
        expect(res.status).toBe(503);
        expect(res.body).toEqual({ success: false, status_code: 503, message: ["Service Unavailable"], data: [] });
        expect(res.headers.get("retry-after")).toBe("5");
        // The read deadline is TIMEOUT_MS + 0.5 s; allow for a loaded machine.
        expect(took).toBeLessThan(TIMEOUT_MS + 2000);
      } finally {
        proxy.restore();
      }
      await expect.poll(async () => (await petList()).status, { timeout: 10_000 }).toBe(404);
    },
  );
});
