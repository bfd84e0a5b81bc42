import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LOGIN_ATTEMPTS_PER_ACCOUNT_PER_MIN, LOGIN_ATTEMPTS_PER_MIN } from "../../../src/http/routes/vet-auth.js";
import { request, startTestGateway, type TestGateway } from "../../support/gateway.js";

const PASSWORD = "correct-horse-battery";

describe("vet login", () => {
  let gw: TestGateway;
  let vetId: number;
  beforeAll(async () => {
    gw = await startTestGateway({ env: { VET_APP_ID: "9" } });
    const vet = await gw.gateway.ctx.repos.vets.create({
      email: "ann.lee@clinic.example",
      password: PASSWORD,
      firstName: "Ann",
      lastName: "Lee",
      profileImage: "https://cdn.example.com/ann.png",
    });
    vetId = vet.id;
  });
  afterAll(async () => {
    await gw?.close();
  });

  it("returns a /vet socket token, its expiry and the vet", async () => {
    const res = await request(gw.url, "POST", "/vet/v1/login", {
      body: { email: "Ann.Lee@Clinic.example", password: PASSWORD },
    });
    expect(res.status).toBe(200);
    expect(res.body.success).toBe(true);
    const { token, expires_at, vet } = res.body.data;
    expect(vet).toEqual({
      id: vetId,
      email: "ann.lee@clinic.example",
      first_name: "Ann",
      last_name: "Lee",
      profile_image: "https://cdn.example.com/ann.png",
      identity: `app-9_vet-${vetId}`,
      // The vet's own routing skills (PROTOCOL §4); defaults here.
      species: [],
      languages: ["en"],
      max_chats: null,
      licenses: [],
    });
    expect(Date.parse(expires_at)).toBeGreaterThan(Date.now());
    const tokens = gw.gateway.ctx.socketTokens;
    expect(await tokens.verify(token, "vet")).toEqual({
      kind: "vet",
      vetId,
      sessionVersion: 0,
      authTime: expect.any(Number),
    });
    expect(await tokens.verify(token, "user")).toBeNull();
    expect(JSON.stringify(res.body)).not.toContain(PASSWORD);
  });

  it("answers 401 Unauthenticated. for a wrong password and for an unknown email alike", async () => {
    for (const body of [
      { email: "ann.lee@clinic.example", password: "wrong-password" },
      { email: "nobody@clinic.example", password: PASSWORD },
    ]) {
      const res = await request(gw.url, "POST", "/vet/v1/login", { body });
      expect(res.status).toBe(401);
      expect(res.body).toEqual({ success: false, status_code: 401, message: ["Unauthenticated."], data: [] });
    }
  });

  it("answers 422 for a bad payload and 400 for malformed JSON", async () => {
    const res = await request(gw.url, "POST", "/vet/v1/login", { body: { email: "ann.lee@clinic.example" } });
    expect(res.status).toBe(422);
    expect(res.body.message).toEqual(["The password field is required."]);
    const empty = await request(gw.url, "POST", "/vet/v1/login", {});
    expect(empty.status).toBe(422);
    expect(empty.body.message).toEqual(["The email field is required.", "The password field is required."]);
    const malformed = await request(gw.url, "POST", "/vet/v1/login", {
      raw: "{nope",
      headers: { "content-type": "application/json" },
    });
    expect(malformed.status).toBe(400);
    expect(malformed.body.success).toBe(false);
  });
});

describe("vet login rate limit", () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway({ db: "pglite" });
    await gw.gateway.ctx.repos.vets.create({
      email: "v@clinic.example",
      password: PASSWORD,
      firstName: "V",
      lastName: "W",
    });
  });
  afterAll(async () => {
    await gw?.close();
  });

  it("blocks an address after too many failed attempts, successes not counted", async () => {
    const good = { email: "v@clinic.example", password: PASSWORD };
    expect((await request(gw.url, "POST", "/vet/v1/login", { body: good })).status).toBe(200);
    // Spread over accounts, so the per-account limit (below) does not answer first.
    const failures = await Promise.all(
      Array.from({ length: LOGIN_ATTEMPTS_PER_MIN }, (_, i) =>
        request(gw.url, "POST", "/vet/v1/login", {
          body: { email: `guess${i}@clinic.example`, password: "guess-guess" },
        }),
      ),
    );
    expect(failures.map((r) => r.status)).toEqual(Array(LOGIN_ATTEMPTS_PER_MIN).fill(401));
    const blocked = await request(gw.url, "POST", "/vet/v1/login", { body: good });
    expect(blocked.status).toBe(429);
    expect(blocked.body).toEqual({ success: false, status_code: 429, message: ["Too Many Requests"], data: [] });
    expect(blocked.headers.get("retry-after")).toBe("60");
  });
});

describe("vet login limit per account", () => {
  let gw: TestGateway;
  beforeAll(async () => {
    // Each attempt from its own address: only the account ties them together.
    gw = await startTestGateway({ redis: true, env: { TRUST_PROXY: "1" } });
    for (const email of ["target@clinic.example", "bystander@clinic.example"]) {
      await gw.gateway.ctx.repos.vets.create({ email, password: PASSWORD, firstName: "T", lastName: "V" });
    }
  });
  afterAll(async () => {
    await gw?.close();
  });
  const login = (email: string, password: string, i: number) =>
    request(gw.url, "POST", "/vet/v1/login", {
      body: { email, password },
      headers: { "x-forwarded-for": `198.51.100.${i}` },
    });

  it(`refuses an account after ${String(LOGIN_ATTEMPTS_PER_ACCOUNT_PER_MIN)} failures in a minute from any addresses; other accounts log in`, async () => {
    const statuses: number[] = [];
    for (let i = 0; i < LOGIN_ATTEMPTS_PER_ACCOUNT_PER_MIN + 2; i++)
      statuses.push((await login("Target@Clinic.example", `guess-${i}-000`, i)).status);
    expect(statuses).toEqual([...Array(LOGIN_ATTEMPTS_PER_ACCOUNT_PER_MIN).fill(401), 429, 429]);
    // For the rest of the minute the account is closed, to the right password too, from a fresh address.
    const locked = await login("target@clinic.example", PASSWORD, 200);
    expect(locked.status).toBe(429);
    expect(locked.headers.get("retry-after")).toBe("60");
    expect((await login("bystander@clinic.example", PASSWORD, 201)).status).toBe(200);
  });
});
