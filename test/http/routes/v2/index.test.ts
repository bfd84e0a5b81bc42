/** The v2 pipeline as partners meet it: app resolution, Basic auth, body limits, rate limits, media-url. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { basicAuth, request, startTestGateway, type TestGateway } from "../../../support/gateway.js";
import { createAppClient, email, expectError, rawRequest, registerUser, type AppClient } from "../../../support/v2.js";

let gw: TestGateway;
let a: AppClient;
let b: AppClient;

beforeAll(async () => {
  gw = await startTestGateway();
  a = await createAppClient(gw);
  b = await createAppClient(gw);
});
afterAll(async () => {
  await gw?.close();
});

describe("authentication", () => {
  it("401 without credentials, with a wrong secret, or with another app's credentials", async () => {
    const path = `${a.base}/socket-token`;
    const body = { email: email() };
    expectError(await request(gw.url, "POST", path, { body }), 401, "Unauthenticated.");
    expectError(
      await request(gw.url, "POST", path, { body, headers: { authorization: basicAuth(a.app.name, "wrong-secret") } }),
      401,
      "Unauthenticated.",
    );
    expectError(
      await request(gw.url, "POST", path, { body, headers: { authorization: "Bearer abc" } }),
      401,
      "Unauthenticated.",
    );
    // B's own, valid credentials on A's path.
    expectError(
      await request(gw.url, "POST", path, { body, headers: { authorization: b.auth } }),
      401,
      "Unauthenticated.",
    );
    // A's secret with B's name on A's path.
    expectError(
      await request(gw.url, "POST", path, { body, headers: { authorization: basicAuth(b.app.name, a.secret) } }),
      401,
      "Unauthenticated.",
    );
  });

  it("accepts the app's id instead of its name", async () => {
    const { user } = await registerUser(a);
    const res = await request(gw.url, "POST", `${a.base}/socket-token`, {
      body: { email: user.email },
      headers: { authorization: basicAuth(a.app.id, a.secret) },
    });
    expect(res.status).toBe(200);
    expect(res.body.data.token).toEqual(expect.any(String));
  });

  it("404 App Not Found for an unknown {name}, also without credentials", async () => {
    expectError(await request(gw.url, "POST", "/api/v2/no-such-app/register-user", { body: {} }), 404, "App Not Found");
    expectError(await request(gw.url, "GET", "/api/v2/no-such-app/media-url"), 404, "App Not Found");
    expectError(
      await request(gw.url, "GET", "/api/v2/no-such-app/pet/list", { headers: { authorization: a.auth } }),
      404,
      "App Not Found",
    );
  });

  it("unknown routes of a known app are a 404 envelope", async () => {
    expectError(await a.call("GET", "/no-such-endpoint"), 404);
  });
});

describe("bodies", () => {
  it("400 for malformed JSON", async () => {
    const res = await request(gw.url, "POST", `${a.base}/register-user`, {
      raw: '{"email": "x@y.z",',
      headers: { authorization: a.auth, "content-type": "application/json" },
    });
    expectError(res, 400);
  });

  it("413 for a JSON body over 1 MiB", async () => {
    const raw = JSON.stringify({ email: "x@example.com", name: "x".repeat(1024 * 1024 + 10) });
    const res = await request(gw.url, "POST", `${a.base}/pet/add`, {
      raw,
      headers: { authorization: a.auth, "content-type": "application/json" },
    });
    expectError(res, 413);
  });

  it("urlencoded forms work like JSON", async () => {
    const mail = email();
    const raw = new URLSearchParams({
      first_name: "Form",
      email: mail,
      role: "protect_users",
      emergency_fund: "10",
      "pet[name]": "Formy",
      "pet[weight]": "3",
    }).toString();
    const res = await request(gw.url, "POST", `${a.base}/register-user`, {
      raw,
      headers: { authorization: a.auth, "content-type": "application/x-www-form-urlencoded" },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.data.user).toMatchObject({ email: mail, emergency_fund: 10 });
    expect(res.body.data.user.pets).toMatchObject({ name: "Formy", weight: "3 lbs" });
  });

  it("no body at all is a 422, never a 500", async () => {
    const res = await rawRequest(`${gw.url}${a.base}/register-user`, "POST", { authorization: a.auth });
    expectError(res, 422, "The first name field is required.");
  });
});

describe("media-url", () => {
  it("needs no credentials and points at the gateway's /media by default", async () => {
    const res = await request(gw.url, "GET", `${a.base}/media-url`);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      success: true,
      status_code: 200,
      message: ["Media url"],
      data: { media_url: `${gw.url}/media` },
    });
  });

  it("is the app's media_url when set", async () => {
    const c = await createAppClient(gw, { mediaUrl: "https://cdn.example.com/p/" });
    expect((await request(gw.url, "GET", `${c.base}/media-url`)).body.data.media_url).toBe("https://cdn.example.com/p");
  });
});

describe("rate limits", () => {
  it("every response carries x-ratelimit-limit and x-ratelimit-remaining", async () => {
    const c = await createAppClient(gw);
    // media-url is unauthenticated: it spends the client address's budget (§7).
    const r1 = await request(gw.url, "GET", `${c.base}/media-url`);
    expect(r1.headers.get("x-ratelimit-limit")).toBe("60");
    expect(r1.headers.get("x-ratelimit-remaining")).not.toBeNull();
    const r2 = await c.call("POST", "/socket-token", {});
    expect(r2.status).toBe(422);
    expect(r2.headers.get("x-ratelimit-limit")).toBe("200");
    const r2b = await c.call("POST", "/socket-token", {});
    expect(Number(r2b.headers.get("x-ratelimit-remaining"))).toBe(Number(r2.headers.get("x-ratelimit-remaining")) - 1);
    const r3 = await request(gw.url, "POST", `${c.base}/socket-token`, { body: {} });
    expect(r3.status).toBe(401);
    expect(r3.headers.get("x-ratelimit-limit")).toBe("60");
    expect(r3.headers.get("x-ratelimit-remaining")).not.toBeNull();
  });
});

describe("429 over RATE_LIMIT_PER_MIN", () => {
  let small: TestGateway;
  beforeAll(async () => {
    small = await startTestGateway({ db: "pglite", env: { RATE_LIMIT_PER_MIN: "3" } });
  });
  afterAll(async () => {
    await small?.close();
  });

  it("answers 429 Too Many Requests in the envelope, per app", async () => {
    const x = await createAppClient(small);
    const y = await createAppClient(small);
    for (let i = 0; i < 3; i++) {
      const res = await x.call("POST", "/socket-token", { email: email() });
      expect(res.status).toBe(404);
      expect(res.headers.get("x-ratelimit-limit")).toBe("3");
      expect(res.headers.get("x-ratelimit-remaining")).toBe(String(2 - i));
    }
    const limited = await x.call("POST", "/socket-token", { email: email() });
    expectError(limited, 429, "Too Many Requests");
    expect(limited.headers.get("x-ratelimit-remaining")).toBe("0");
    // Another app has its own budget.
    expect((await y.call("POST", "/socket-token", { email: email() })).status).toBe(404);
  });
});
