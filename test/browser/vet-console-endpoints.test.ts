/** The console's small REST endpoints: `GET /vet/v1/config`, `GET /vet/v1/queue`, `POST /vet/v1/token`. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { request, startTestGateway, TEST_ADMIN_TOKEN, type TestGateway } from "../support/gateway.js";

let gw: TestGateway;
let token: string;

beforeAll(async () => {
  gw = await startTestGateway({ db: "pglite", env: { WRAPUP_MS: "45000" } });
  const admin = { authorization: `Bearer ${TEST_ADMIN_TOKEN}` };
  const vet = { email: "console@example.com", password: "console-pass-1", first_name: "Ana", last_name: "Kim" };
  expect((await request(gw.url, "POST", "/admin/v1/vets", { headers: admin, body: vet })).status).toBe(201);
  const login = await request(gw.url, "POST", "/vet/v1/login", { body: { email: vet.email, password: vet.password } });
  token = login.body.data.token;
}, 60_000);

afterAll(async () => {
  await gw?.close();
});

describe("vet console endpoints", () => {
  it("GET /vet/v1/config tells the Twilio mode and timings, without auth", async () => {
    const res = await request(gw.url, "GET", "/vet/v1/config");
    expect(res.status).toBe(200);
    expect(res.body.data).toEqual({ twilio_mode: "offline", wrapup_ms: 45000, offer_timeout_ms: 30000 });
  });

  it("GET /vet/v1/queue needs a vet token and answers the queue length", async () => {
    expect((await request(gw.url, "GET", "/vet/v1/queue")).status).toBe(401);
    const bad = await request(gw.url, "GET", "/vet/v1/queue", { headers: { authorization: "Bearer nope" } });
    expect(bad.status).toBe(401);
    expect(bad.body.message).toEqual(["Unauthenticated."]);
    const res = await request(gw.url, "GET", "/vet/v1/queue", { headers: { authorization: `Bearer ${token}` } });
    expect(res.status).toBe(200);
    expect(res.body.data).toEqual({ queue_length: 0, vets_available: 0 });
  });

  it("POST /vet/v1/token renews a vet token, and only a vet token", async () => {
    expect((await request(gw.url, "POST", "/vet/v1/token")).status).toBe(401);
    const res = await request(gw.url, "POST", "/vet/v1/token", { headers: { authorization: `Bearer ${token}` } });
    expect(res.status).toBe(200);
    expect(typeof res.body.data.token).toBe("string");
    expect(Date.parse(res.body.data.expires_at)).toBeGreaterThan(Date.now());
    const again = await request(gw.url, "GET", "/vet/v1/queue", { headers: { authorization: `Bearer ${res.body.data.token}` } });
    expect(again.status).toBe(200);
  });
});
