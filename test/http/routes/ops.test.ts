import http from "node:http";
import type { AddressInfo } from "node:net";
import { Router } from "express";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Database } from "../../../src/db/database.js";
import { createHttpApp } from "../../../src/http/app.js";
import { createLogger } from "../../../src/lib/logger.js";
import { buildGateway } from "../../../src/server.js";
import { basicAuth, request, startTestGateway, TEST_ADMIN_TOKEN, type TestGateway } from "../../support/gateway.js";

const SECRET = "ops-app-secret-0123456789";

async function listen(server: http.Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe("ops endpoints and error handling", () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway();
    await gw.gateway.ctx.repos.apps.create({ name: "opsapp", secret: SECRET });
  });
  afterAll(async () => {
    await gw?.close();
  });

  it("GET /healthz is 200 with this node's id", async () => {
    const res = await request(gw.url, "GET", "/healthz");
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      success: true,
      status_code: 200,
      data: { status: "ok", node: gw.gateway.ctx.nodeId },
    });
  });

  it("GET /readyz is 200 when the database is reachable", async () => {
    const res = await request(gw.url, "GET", "/readyz");
    expect(res.status).toBe(200);
    expect(res.body.data).toEqual({ database: "ok", redis: "disabled" });
  });

  it("GET /readyz is 503 when the database is down", async () => {
    const broken: Database = { ...gw.database, ping: () => Promise.reject(new Error("connection refused")) };
    const other = await buildGateway(gw.config, { database: broken, logger: createLogger("silent") });
    try {
      const addr = await other.listen();
      const res = await request(`http://127.0.0.1:${addr.port}`, "GET", "/readyz");
      expect(res.status).toBe(503);
      expect(res.body).toMatchObject({ success: false, status_code: 503, message: ["Not Ready"] });
      expect(res.body.data).toMatchObject({ database: "down" });
      // Liveness is unaffected: the process is up.
      expect((await request(`http://127.0.0.1:${addr.port}`, "GET", "/healthz")).status).toBe(200);
    } finally {
      await other.close();
    }
  });

  it("GET /metrics exposes request durations labelled by route pattern", async () => {
    expect((await request(gw.url, "GET", "/api/v2/opsapp/media-url")).status).toBeLessThan(500);
    const res = await fetch(`${gw.url}/metrics`, { headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` } });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/plain/);
    const text = await res.text();
    expect(text).toContain("http_request_duration_seconds_bucket");
    expect(text).toMatch(/http_request_duration_seconds_count\{[^}]*route="\/api\/v2\/:name\/media-url"/);
    // Raw app names never become label values (bounded cardinality).
    expect(text).not.toContain('route="/api/v2/opsapp');
    expect(text).toContain("process_cpu_seconds_total");
  });

  it("answers unknown routes with a 404 envelope", async () => {
    for (const path of ["/nope", "/admin", "/vet/v1/nope"]) {
      const res = await request(gw.url, "GET", path);
      expect(res.status).toBe(404);
      expect(res.body).toEqual({ success: false, status_code: 404, message: ["Not Found"], data: [] });
    }
    const app = await request(gw.url, "GET", "/api/v2/no-such-app/media-url");
    expect(app.status).toBe(404);
    expect(app.body).toEqual({ success: false, status_code: 404, message: ["App Not Found"], data: [] });
  });

  it("turns an unexpected error into 500 Server Error without a stack trace", async () => {
    const boom = Router();
    boom.get("/boom", () => {
      throw new Error("kaboom: secret internals at /work/main/src/whatever.ts:12");
    });
    boom.get("/boom-async", async () => {
      await Promise.resolve();
      throw new TypeError("async kaboom");
    });
    const server = http.createServer(createHttpApp(gw.gateway.ctx, [boom]));
    const url = await listen(server);
    try {
      for (const path of ["/boom", "/boom-async"]) {
        const res = await request(url, "GET", `/api/v2/opsapp${path}`, {
          headers: { authorization: basicAuth("opsapp", SECRET) },
        });
        expect(res.status).toBe(500);
        expect(res.body).toEqual({ success: false, status_code: 500, message: ["Server Error"], data: [] });
        const raw = JSON.stringify(res.body);
        expect(raw).not.toMatch(/kaboom|at |\.ts/);
      }
      // The extra router sits behind Basic auth.
      expect((await request(url, "GET", "/api/v2/opsapp/boom")).status).toBe(401);
      const wrong = await request(url, "GET", "/api/v2/opsapp/boom", {
        headers: { authorization: basicAuth("opsapp", "nope-nope-nope-nope") },
      });
      expect(wrong.status).toBe(401);
      expect(wrong.body.message).toEqual(["Unauthenticated."]);
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});

describe("readiness with Redis", () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway({ db: "pglite", redis: true });
  });
  afterAll(async () => {
    await gw?.close();
  });

  it("is 200 while Redis answers and 503 once it is unreachable", async () => {
    const ok = await request(gw.url, "GET", "/readyz");
    expect(ok.status).toBe(200);
    expect(ok.body.data).toEqual({ database: "ok", redis: "ok" });

    const redis = gw.gateway.ctx.redis!;
    redis.destroy();
    const down = await request(gw.url, "GET", "/readyz");
    expect(down.status).toBe(503);
    expect(down.body.data).toEqual({ database: "ok", redis: "down" });
  });
});
