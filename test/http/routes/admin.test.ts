import http from "node:http";
import type { AddressInfo } from "node:net";
import express from "express";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAdminRouter, type StatsSource } from "../../../src/http/routes/admin.js";
import { basicAuth, request, startTestGateway, TEST_ADMIN_TOKEN, type TestGateway } from "../../support/gateway.js";

const admin = { authorization: `Bearer ${TEST_ADMIN_TOKEN}` };

describe("admin API", () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway();
  });
  afterAll(async () => {
    await gw?.close();
  });

  it("refuses calls without the bearer token or with a wrong one", async () => {
    const body = { name: "noauth", secret: "0123456789abcdef" };
    const cases: Array<Record<string, string>> = [
      {},
      { authorization: "Bearer wrong-token" },
      { authorization: `Bearer ${TEST_ADMIN_TOKEN}x` },
      { authorization: `Basic ${Buffer.from(`admin:${TEST_ADMIN_TOKEN}`).toString("base64")}` },
      { authorization: TEST_ADMIN_TOKEN },
    ];
    for (const headers of cases) {
      const res = await request(gw.url, "POST", "/admin/v1/apps", { body, headers });
      expect(res.status).toBe(401);
      expect(res.body).toEqual({ success: false, status_code: 401, message: ["Unauthenticated."], data: [] });
    }
    expect((await request(gw.url, "GET", "/admin/v1/stats")).status).toBe(401);
    expect((await request(gw.url, "POST", "/admin/v1/vets", { body: {} })).status).toBe(401);
    expect(await gw.gateway.ctx.repos.apps.findByName("noauth")).toBeNull();
  });

  it("creates an app (201), which then authenticates on /api/v2, and refuses a duplicate (409)", async () => {
    const secret = "petcube-secret-0123456789";
    // Looked up (and cached as unknown) before it exists: creation must not be hidden by the cache.
    expect((await request(gw.url, "GET", "/api/v2/petcube/media-url")).status).toBe(404);

    const res = await request(gw.url, "POST", "/admin/v1/apps", {
      headers: admin,
      body: { name: "petcube", secret, media_url: "https://cdn.example.com/pets" },
    });
    expect(res.status).toBe(201);
    expect(res.body.success).toBe(true);
    expect(res.body.status_code).toBe(201);
    expect(res.body.data).toEqual({
      id: expect.any(Number),
      name: "petcube",
      media_url: "https://cdn.example.com/pets",
      webhook_url: null,
    });
    expect(JSON.stringify(res.body)).not.toContain(secret);

    const stored = await gw.gateway.ctx.repos.apps.findWithSecret(res.body.data.id);
    expect(stored?.secretHash).toMatch(/^scrypt\$/);
    expect(stored?.secretHash).not.toContain(secret);
    expect((await request(gw.url, "GET", "/api/v2/petcube/media-url")).status).not.toBe(404);
    const ctx = gw.gateway.ctx;
    // Created with its verifier: the first request is checked without scrypt.
    expect(await ctx.appAuth.check("petcube", basicAuth("petcube", secret))).toMatchObject({
      result: "ok",
      app: { name: "petcube" },
    });

    const dup = await request(gw.url, "POST", "/admin/v1/apps", { headers: admin, body: { name: "petcube", secret } });
    expect(dup.status).toBe(409);
    expect(dup.body).toMatchObject({ success: false, status_code: 409, data: [] });
    expect(dup.body.message[0]).toMatch(/taken/);
  });

  it("rotates an app's secret: the new one is shown once and works, the old one is refused at once (PROTOCOL §7)", async () => {
    const created = await request(gw.url, "POST", "/admin/v1/apps", {
      headers: admin,
      body: { name: "rotator", secret: "rotator-secret-0123456789" },
    });
    const id = created.body.data.id as number;
    const call = (secret: string) =>
      request(gw.url, "POST", "/api/v2/rotator/socket-token", {
        body: {},
        headers: { authorization: basicAuth("rotator", secret) },
      });
    expect((await call("rotator-secret-0123456789")).status).toBe(422); // authenticated, then the body is refused
    const rotated = await request(gw.url, "POST", `/admin/v1/apps/${String(id)}/secret`, { headers: admin });
    expect(rotated.status).toBe(200);
    expect(rotated.body.message).toEqual(["App secret rotated. It is shown only once."]);
    const secret = rotated.body.data.secret as string;
    expect(rotated.body.data).toEqual({
      id,
      name: "rotator",
      media_url: null,
      secret: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
    });
    expect((await call("rotator-secret-0123456789")).status).toBe(401);
    expect((await call(secret)).status).toBe(422);
    const stored = await gw.gateway.ctx.repos.apps.findWithSecret(id);
    expect(stored?.secretHash).not.toContain(secret);
    for (const bad of ["0", "999999", "x", "1.5"]) {
      expect((await request(gw.url, "POST", `/admin/v1/apps/${bad}/secret`, { headers: admin })).status).toBe(404);
    }
    expect((await request(gw.url, "POST", `/admin/v1/apps/${String(id)}/secret`)).status).toBe(401);
  });

  it("creates an app without media_url", async () => {
    const res = await request(gw.url, "POST", "/admin/v1/apps", {
      headers: admin,
      body: { name: "vetly_2", secret: "0123456789abcdef" },
    });
    expect(res.status).toBe(201);
    expect(res.body.data).toMatchObject({ name: "vetly_2", media_url: null });
  });

  it("validates app payloads (422, one message per field)", async () => {
    const bad = async (body: unknown) => {
      const res = await request(gw.url, "POST", "/admin/v1/apps", { headers: admin, body });
      expect(res.status).toBe(422);
      expect(res.body).toMatchObject({ success: false, status_code: 422, data: [] });
      return res.body.message as string[];
    };
    expect(await bad({})).toEqual(["The name field is required.", "The secret field is required."]);
    expect(await bad({ name: "Pet Cube", secret: "0123456789abcdef" })).toEqual(["The name format is invalid."]);
    expect(await bad({ name: "-petcube", secret: "0123456789abcdef" })).toEqual(["The name format is invalid."]);
    expect(await bad({ name: "a", secret: "0123456789abcdef" })).toEqual(["The name format is invalid."]);
    expect(await bad({ name: "a".repeat(64), secret: "0123456789abcdef" })).toEqual(["The name format is invalid."]);
    expect(await bad({ name: "petcube2", secret: "short" })).toEqual(["The secret must be at least 16 characters."]);
    expect(await bad({ name: "petcube2", secret: "0123456789abcdef", media_url: "ftp://x" })).toHaveLength(1);
    expect(await bad({ name: "petcube2", secret: 1234567890123456 })).toEqual(["The secret must be a string."]);
  });

  it("creates a vet (201, no password or hash in the answer), 409 on a duplicate email, 422 on bad input", async () => {
    const body = { email: "Dr.Who@Example.com", password: "tardis-1963", first_name: "John", last_name: "Smith" };
    const res = await request(gw.url, "POST", "/admin/v1/vets", { headers: admin, body });
    expect(res.status).toBe(201);
    expect(res.body.data).toEqual({
      id: expect.any(Number),
      email: "dr.who@example.com",
      first_name: "John",
      last_name: "Smith",
      profile_image: null,
      identity: `app-1_vet-${res.body.data.id}`,
      // Routing skills: the defaults when none are given (PROTOCOL §4).
      species: [],
      languages: ["en"],
      max_chats: null,
      licenses: [],
    });
    const text = JSON.stringify(res.body);
    expect(text).not.toContain("tardis-1963");
    expect(text).not.toMatch(/hash|scrypt/i);

    const dup = await request(gw.url, "POST", "/admin/v1/vets", {
      headers: admin,
      body: { ...body, email: "dr.who@example.com" },
    });
    expect(dup.status).toBe(409);

    const bad = await request(gw.url, "POST", "/admin/v1/vets", {
      headers: admin,
      body: { email: "not-an-email", password: "short", first_name: "", profile_image: "nope" },
    });
    expect(bad.status).toBe(422);
    expect(bad.body.message).toEqual([
      "The email must be a valid email address.",
      "The password must be at least 8 characters.",
      "The first name field is required.",
      "The last name field is required.",
      "The profile image must be a valid url.",
    ]);
  });

  it("answers stats (all zero on an idle gateway)", async () => {
    const res = await request(gw.url, "GET", "/admin/v1/stats", { headers: admin });
    expect(res.status).toBe(200);
    expect(res.body.data).toMatchObject({
      queue_length: 0,
      vets: { available: 0, away: 0, busy: 0, offline: 0 },
      open_consultations: 0,
    });
    expect(Object.values(res.body.data.vets).every((n) => n === 0)).toBe(true);
  });

  it("answers zeros when no stats source is given", async () => {
    const app = express();
    app.use("/admin/v1", express.json(), createAdminRouter(gw.gateway.ctx));
    const server = http.createServer(app);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const res = await request(url, "GET", "/admin/v1/stats", { headers: admin });
      expect(res.status).toBe(200);
      expect(res.body.data).toEqual({
        queue_length: 0,
        waiting_advice: 0,
        vets: { available: 0, away: 0, busy: 0, offline: 0 },
        open_consultations: 0,
      });
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it("reports the stats source's numbers when one is given", async () => {
    const source: StatsSource = {
      stats: () =>
        Promise.resolve({
          queue_length: 3,
          waiting_advice: 1,
          vets: { available: 2, wrapup: 1 },
          open_consultations: 4,
        }),
    };
    const app = express();
    app.use("/admin/v1", express.json(), createAdminRouter(gw.gateway.ctx, source));
    const server = http.createServer(app);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const res = await request(url, "GET", "/admin/v1/stats", { headers: admin });
      expect(res.status).toBe(200);
      expect(res.body.data).toEqual({
        queue_length: 3,
        waiting_advice: 1,
        vets: { available: 2, away: 0, busy: 0, offline: 0, wrapup: 1 },
        open_consultations: 4,
      });
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});

describe("admin API without ADMIN_TOKEN", () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway({ db: "pglite", env: { ADMIN_TOKEN: "" } });
  });
  afterAll(async () => {
    await gw?.close();
  });

  it("is closed: every call is 401, whatever the token", async () => {
    for (const headers of [{}, admin, { authorization: "Bearer " }, { authorization: "Bearer undefined" }]) {
      expect((await request(gw.url, "GET", "/admin/v1/stats", { headers })).status).toBe(401);
      const res = await request(gw.url, "POST", "/admin/v1/apps", {
        headers,
        body: { name: "petcube", secret: "0123456789abcdef" },
      });
      expect(res.status).toBe(401);
    }
  });
});
