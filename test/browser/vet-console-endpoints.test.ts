/** The console's small REST endpoints: `GET /vet/v1/config`, `GET /vet/v1/queue`, `POST /vet/v1/token`. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ManualClock } from "../../src/lib/clock.js";
import { ownerActor, seedApp, seedUser } from "../support/actors.js";
import { request, startTestGateway, TEST_ADMIN_TOKEN, type TestGateway } from "../support/gateway.js";

let gw: TestGateway;
let token: string;
// Near real time, so the tokens' expiry checks agree; moved by hand for the queue's waiting time.
const clock = new ManualClock(Date.now());

beforeAll(async () => {
  gw = await startTestGateway({ db: "pglite", clock, env: { WRAPUP_MS: "45000", VET_MAX_CONSULTS: "3" } });
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
    expect(res.body.data).toEqual({
      twilio_mode: "offline",
      wrapup_ms: 45000,
      offer_timeout_ms: 30000,
      vet_max_consults: 3,
      licensing: false,
      // PROTOCOL §10: the feedback form's choices.
      outcomes: ["resolved", "follow_up", "clinic_visit", "emergency_referral", "no_show", "other"],
    });
  });

  it("GET /vet/v1/queue needs a vet token and answers the queue length", async () => {
    expect((await request(gw.url, "GET", "/vet/v1/queue")).status).toBe(401);
    const bad = await request(gw.url, "GET", "/vet/v1/queue", { headers: { authorization: "Bearer nope" } });
    expect(bad.status).toBe(401);
    expect(bad.body.message).toEqual(["Unauthenticated."]);
    const res = await request(gw.url, "GET", "/vet/v1/queue", { headers: { authorization: `Bearer ${token}` } });
    expect(res.status).toBe(200);
    expect(res.body.data).toEqual({ queue_length: 0, vets_available: 0, oldest_wait_s: null });
  });

  it("GET /vet/v1/queue tells how long the oldest waiting request has waited", async () => {
    const app = await seedApp(gw.gateway);
    const [u1, u2] = [await seedUser(gw.gateway, app.id), await seedUser(gw.gateway, app.id)];
    const first = await ownerActor(gw.url, u1.token);
    const second = await ownerActor(gw.url, u2.token);
    const queue = async () =>
      (await request(gw.url, "GET", "/vet/v1/queue", { headers: { authorization: `Bearer ${token}` } })).body.data;
    try {
      const a = await first.request({ conversation_request: "chat", pet_id: u1.petId });
      clock.advance(95_000);
      const b = await second.request({ conversation_request: "video", pet_id: u2.petId });
      clock.advance(20_400);
      // No vet is available: both wait; the first has waited 115.4 s (whole seconds are shown).
      expect(await queue()).toEqual({ queue_length: 2, vets_available: 0, oldest_wait_s: 115 });
      await first.cancel(a.consultation_id);
      // The queue read is shared for a second: within it the cancel is not seen yet, but the wait keeps counting.
      clock.advance(600);
      expect(await queue()).toEqual({ queue_length: 2, vets_available: 0, oldest_wait_s: 116 });
      clock.advance(400);
      expect(await queue()).toEqual({ queue_length: 1, vets_available: 0, oldest_wait_s: 21 });
      await second.cancel(b.consultation_id);
      clock.advance(1000);
      expect(await queue()).toEqual({ queue_length: 0, vets_available: 0, oldest_wait_s: null });
    } finally {
      first.close();
      second.close();
    }
  });

  it("POST /vet/v1/token renews a vet token, and only a vet token", async () => {
    expect((await request(gw.url, "POST", "/vet/v1/token")).status).toBe(401);
    const res = await request(gw.url, "POST", "/vet/v1/token", { headers: { authorization: `Bearer ${token}` } });
    expect(res.status).toBe(200);
    expect(typeof res.body.data.token).toBe("string");
    expect(Date.parse(res.body.data.expires_at)).toBeGreaterThan(Date.now());
    const again = await request(gw.url, "GET", "/vet/v1/queue", {
      headers: { authorization: `Bearer ${res.body.data.token}` },
    });
    expect(again.status).toBe(200);
  });
});
