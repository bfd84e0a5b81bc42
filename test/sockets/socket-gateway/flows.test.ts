/**
 * PROTOCOL §3/§4 end to end on one node: real Socket.IO clients, real PostgreSQL, the
 * in-memory routing store. Timer rules run on a second gateway with short timeouts.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  OwnerActor,
  ownerActor,
  seedApp,
  seedUser,
  seedVet,
  TestClient,
  userClient,
  VetActor,
  vetActor,
  vetClient,
} from "../../support/actors.js";
import { basicAuth, request, startTestGateway, type TestGateway } from "../../support/gateway.js";

type Closable = TestClient | VetActor | OwnerActor;
const clients: Closable[] = [];
const track = <T extends Closable>(c: T): T => {
  clients.push(c);
  return c;
};
const isOwner = (c: Closable) => c instanceof OwnerActor || (c instanceof TestClient && c.ns === "/user");

/**
 * Owners leave first (with USER_GRACE_MS=0 their waiting requests are cancelled at once),
 * then vets; the next test must start from an empty floor, so a leak fails loudly here.
 */
async function closeClients(gw: TestGateway): Promise<void> {
  const all = clients.splice(0);
  for (const c of all) if (isOwner(c)) c.close();
  for (const c of all) if (!isOwner(c)) c.close();
  await expect
    .poll(
      async () => {
        const s = await gw.gateway.engine.stats();
        return {
          online: s.vets.offline === undefined ? -1 : Object.values(s.vets).reduce((a, b) => a + b, 0) - s.vets.offline,
          open: s.open_consultations,
        };
      },
      { timeout: 5000 },
    )
    .toEqual({ online: 0, open: 0 });
}

/** One gateway per describe block, an app, and helpers that bring vets and owners online. */
function floor(env: Record<string, string>) {
  const f = {
    t: undefined as unknown as TestGateway,
    app: undefined as unknown as Awaited<ReturnType<typeof seedApp>>,
    vetOnline: async () => {
      const v = await seedVet(f.t.gateway);
      return { vet: v, client: track(await vetClient(f.t.url, v.token)) };
    },
    owner: async () => {
      const u = await seedUser(f.t.gateway, f.app.id);
      return { user: u, client: track(await userClient(f.t.url, u.token)) };
    },
    /** A vet and an owner through the client SDK. */
    sdkVetOnline: async () => {
      const v = await seedVet(f.t.gateway);
      return { vet: v, client: track(await vetActor(f.t.url, v.token)) };
    },
    sdkOwner: async () => {
      const u = await seedUser(f.t.gateway, f.app.id);
      return { user: u, client: track(await ownerActor(f.t.url, u.token)) };
    },
  };
  beforeAll(async () => {
    f.t = await startTestGateway({ env });
    f.app = await seedApp(f.t.gateway);
  });
  afterEach(() => closeClients(f.t));
  afterAll(() => f.t.close());
  return f;
}

describe("socket flows (default timers)", () => {
  const f = floor({ USER_GRACE_MS: "0" });
  const { vetOnline, owner, sdkVetOnline, sdkOwner } = f;

  it("refuses a bad or missing token with connect_error 'unauthorized'", async () => {
    await expect(new TestClient(f.t.url, "/vet", "nope").ready()).rejects.toThrow("unauthorized");
    await expect(new TestClient(f.t.url, "/user", undefined).ready()).rejects.toThrow("unauthorized");
    const u = await seedUser(f.t.gateway, f.app.id);
    await expect(new TestClient(f.t.url, "/vet", u.token).ready()).rejects.toThrow("unauthorized"); // user token on /vet
  });

  it("serves the HTTP long-polling transport too (clients whose proxies block WebSocket)", async () => {
    const v = await seedVet(f.t.gateway);
    const c = track(await new TestClient(f.t.url, "/vet", v.token, ["polling"]).ready());
    expect((await c.ask("presence:set", { status: "available" })).data).toEqual({ status: "available" });
    expect((await request(f.t.url, "GET", "/healthz")).status).toBe(200);
  });

  it("happy path: request → offer → accept → matched → end → feedback", async () => {
    // Through the client SDK; an error envelope would reject the call.
    const { vet, client: v } = await sdkVetOnline();
    const { user, client: u } = await sdkOwner();

    const req = await u.request({ conversation_request: "chat", pet_id: user.petId });
    expect(req).toMatchObject({ status: "queued", position: 1 });
    const id = req.consultation_id;

    const offer = await v.next("consult:offer");
    expect(offer).toMatchObject({
      consultation_id: id,
      type: "chat",
      requested: false,
      user: { id: user.userId },
      pet: { id: user.petId },
    });
    expect(Date.parse(offer.expires_at)).toBeGreaterThan(Date.now());

    const accepted = await v.accept(id);
    const matched = await u.next("consult:matched");
    expect(matched).toMatchObject({
      consultation_id: id,
      type: "chat",
      vet: { id: `app-1_vet-${vet.id}`, username: `${vet.firstName} ${vet.lastName}`, profile_image: null },
      identity: `local-app-${f.app.id}_user-${user.userId}`,
    });
    expect(matched.channel).toMatch(/^CH[0-9a-f]{32}$/);
    expect(matched.twilioToken.split(".")).toHaveLength(3);
    expect(accepted).toMatchObject({
      consultation_id: id,
      channel: matched.channel,
      vet: matched.vet,
      user: { id: user.userId },
      pet: { id: user.petId },
      user_identity: matched.identity,
      identity: `app-1_vet-${vet.id}`,
    });

    await u.end(id);
    expect(await v.next("consult:ended")).toEqual({ consultation_id: id, ended_by: "user" });
    expect(await u.next("consult:ended")).toEqual({ consultation_id: id, ended_by: "user" });

    await v.sendFeedback(id, "Rest", "Mild cough");
    expect(await u.next("consult:feedback")).toMatchObject({
      consultation_id: id,
      type: "chat",
      vet_first_name: vet.firstName,
      vet_last_name: "Doe",
      recommendation: "Rest",
      reason: "Mild cough",
    });

    // The REST fallback sees the same feedback; a second submission replaces it.
    await v.sendFeedback(id, "Rest more", "Cough");
    const rest = await request(f.t.url, "POST", `/api/v2/${f.app.name}/feedback`, {
      headers: { authorization: basicAuth(f.app.name, f.app.secret) },
      body: { type: "chat", channel_sid: matched.channel },
    });
    expect(rest.status).toBe(200);
    expect(rest.body.data).toMatchObject({
      type: "chat",
      recommendation: "Rest more",
      reason: "Cough",
      vet_first_name: vet.firstName,
    });

    // History survives in PostgreSQL.
    await f.t.gateway.engine.flush();
    const history = await f.t.gateway.ctx.repos.ledger.history(id);
    expect(history.map((h) => h.to)).toEqual(["queued", "offered", "active", "ended"]);
    expect(await f.t.gateway.ctx.repos.ledger.offersOf(id)).toEqual([{ vetId: vet.id, outcome: "accepted" }]);
  });

  it("decline sends the request to the next vet at once", async () => {
    const a = await sdkVetOnline();
    const b = await sdkVetOnline();
    const { user, client: u } = await sdkOwner();
    const data = await u.request({ conversation_request: "chat", pet_id: user.petId });
    const first = await a.client.next("consult:offer");
    expect(first.consultation_id).toBe(data.consultation_id);
    await a.client.decline(data.consultation_id);
    expect((await b.client.next("consult:offer")).consultation_id).toBe(data.consultation_id);
    // Accepting the declined offer is refused.
    await expect(a.client.accept(data.consultation_id)).rejects.toMatchObject({ kind: "rejected", statusCode: 409 });
  });

  it("offers the requested vet first, and falls back when it is away or offline", async () => {
    const a = await sdkVetOnline();
    const b = await sdkVetOnline();
    const o1 = await sdkOwner();
    await o1.client.request({ conversation_request: "chat", pet_id: o1.user.petId, doctor_email: b.vet.email });
    expect(await b.client.next("consult:offer")).toMatchObject({ requested: true });
    await a.client.none("consult:offer");

    // b now holds an offer (busy); a second owner asking for b gets a.
    const o2 = await sdkOwner();
    await o2.client.request({ conversation_request: "chat", pet_id: o2.user.petId, doctor_email: b.vet.email });
    expect(await a.client.next("consult:offer")).toMatchObject({ requested: false });

    // Away and offline requested vets fall back too.
    const c = await sdkVetOnline();
    await c.client.setAvailability("away");
    const d = await sdkVetOnline();
    const o3 = await sdkOwner();
    await o3.client.request({ conversation_request: "video", pet_id: o3.user.petId, doctor_email: c.vet.email });
    expect(await d.client.next("consult:offer")).toMatchObject({ type: "video", requested: false });
  });

  it("a vet disconnecting mid-offer hands the request to the next vet", async () => {
    const a = await sdkVetOnline();
    const { user, client: u } = await sdkOwner();
    const data = await u.request({ conversation_request: "chat", pet_id: user.petId });
    await a.client.next("consult:offer");
    const b = await sdkVetOnline(); // b is online but a holds the offer
    await b.client.none("consult:offer", () => true, 100);
    a.client.close();
    expect((await b.client.next("consult:offer")).consultation_id).toBe(data.consultation_id);
  });

  it("cancel revokes the vet's offer with reason cancelled", async () => {
    const a = await sdkVetOnline();
    const { user, client: u } = await sdkOwner();
    const data = await u.request({ conversation_request: "chat", pet_id: user.petId });
    await a.client.next("consult:offer");
    await u.cancel(data.consultation_id);
    expect(await a.client.next("consult:offer_revoked")).toEqual({
      consultation_id: data.consultation_id,
      reason: "cancelled",
    });
    await expect(a.client.accept(data.consultation_id)).rejects.toMatchObject({ kind: "rejected", statusCode: 409 });
  });

  it("queue positions move up and a user with an open consultation gets it back", async () => {
    const o1 = await sdkOwner();
    const o2 = await sdkOwner();
    const r1 = await o1.client.request({ conversation_request: "chat", pet_id: o1.user.petId });
    const r2 = await o2.client.request({ conversation_request: "chat", pet_id: o2.user.petId });
    expect(r2.position).toBe(2);
    expect(await o2.client.next("consult:queued")).toMatchObject({ position: 2 });
    const again = await o1.client.request({ conversation_request: "video", pet_id: o1.user.petId });
    expect(again.consultation_id).toBe(r1.consultation_id);
    await o1.client.cancel(r1.consultation_id);
    const moved = await o2.client.next("consult:queued", (p) => p.position === 1);
    expect(moved).toMatchObject({ consultation_id: r2.consultation_id });
    expect(typeof moved.estimated_wait_s).toBe("number");
    await o2.client.cancel(r2.consultation_id);
  });

  it("resume: a reconnecting user gets consult:state with a fresh token", async () => {
    const a = await sdkVetOnline();
    const { user, client: u } = await sdkOwner();
    const data = await u.request({ conversation_request: "chat", pet_id: user.petId });
    await a.client.next("consult:offer");
    await a.client.accept(data.consultation_id);
    u.close();
    const again = track(await ownerActor(f.t.url, user.token));
    const state = await again.next("consult:state");
    expect(state).toMatchObject({
      consultation_id: data.consultation_id,
      status: "active",
      type: "chat",
      vet: { id: `app-1_vet-${a.vet.id}` },
    });
    expect(state.channel).toMatch(/^CH/);
    expect(state.twilioToken).toBeTruthy();
    await again.end(data.consultation_id);
  });

  it("video: call:start rings the owner, and call status flows back over socket and REST", async () => {
    const a = await sdkVetOnline();
    const { user, client: u } = await sdkOwner();
    const data = await u.request({ conversation_request: "video", pet_id: user.petId });
    await a.client.next("consult:offer");
    await a.client.accept(data.consultation_id);
    const call = await a.client.startCall(data.consultation_id);
    expect(call.room_sid).toMatch(/^RM[0-9a-f]{32}$/);
    const incoming = await u.next("call:incoming");
    expect(incoming).toMatchObject({
      consultation_id: data.consultation_id,
      room_sid: call.room_sid,
      vet: { id: `app-1_vet-${a.vet.id}` },
    });
    const grants = JSON.parse(Buffer.from(incoming.twilioToken.split(".")[1], "base64url").toString()).grants;
    expect(grants.video).toEqual({ room: call.room_sid });

    await u.callStatus(call.room_sid, "accepted");
    expect(await a.client.next("call:status")).toEqual({
      consultation_id: data.consultation_id,
      room_sid: call.room_sid,
      status: "accepted",
    });

    const rest = await request(f.t.url, "POST", `/api/v2/${f.app.name}/video-call-action`, {
      headers: { authorization: basicAuth(f.app.name, f.app.secret) },
      body: { status: "notanswered", room_sid: call.room_sid },
    });
    expect(rest.status).toBe(200);
    expect(await a.client.next("call:status", (p) => p.status === "notanswered")).toMatchObject({
      room_sid: call.room_sid,
    });
    // Another user's room is not found.
    await expect(u.callStatus("RM00000000000000000000000000000000", "declined")).rejects.toMatchObject({
      kind: "rejected",
      statusCode: 404,
    });
    await a.client.end(data.consultation_id);
  });

  it("token:refresh answers a fresh Twilio token on both namespaces", async () => {
    const a = await sdkVetOnline();
    const { client: u } = await sdkOwner();
    for (const c of [a.client, u]) {
      const r = await c.refreshTwilioToken();
      expect(r.twilioToken.split(".")).toHaveLength(3);
      expect(Date.parse(r.expires_at)).toBeGreaterThan(Date.now());
    }
  });

  it("bad payloads get 422, events without a callback are ignored, and the server keeps serving", async () => {
    const a = await vetOnline();
    const { client: u } = await owner();
    const bad = await u.ask("consult:request", { conversation_request: "phone", pet_id: "x" });
    expect(bad).toMatchObject({ success: false, status_code: 422, data: [] });
    expect(bad.message).toEqual(["The selected conversation request is invalid.", "The pet id must be a number."]);
    expect((await u.ask("consult:request", "not an object")).status_code).toBe(422);
    expect((await u.ask("consult:request")).status_code).toBe(422);
    expect((await a.client.ask("presence:set", { status: "busy" })).status_code).toBe(422);
    expect((await a.client.ask("consult:accept", {})).message).toEqual(["The consultation id field is required."]);
    u.socket.emit("consult:request", { conversation_request: "chat", pet_id: 1 }); // no callback
    a.client.socket.emit("consult:accept", null);
    expect((await a.client.ask("consult:accept", { consultation_id: "nope" })).status_code).toBe(409);
    expect((await u.ask("consult:request", { conversation_request: "chat", pet_id: 999999 })).status_code).toBe(404);
    expect((await a.client.ask("token:refresh", {})).status_code).toBe(200);
  });

  it("talk-to-vet assigns at once with consult:assigned, then end and feedback over REST", async () => {
    const a = await sdkVetOnline();
    const u = await seedUser(f.t.gateway, f.app.id);
    const auth = { authorization: basicAuth(f.app.name, f.app.secret) };
    const res = await request(f.t.url, "POST", `/api/v2/${f.app.name}/talk-to-vet`, {
      headers: auth,
      body: { email: u.email, conversation_request: "chat", pet_id: u.petId },
    });
    expect(res.status).toBe(200);
    expect(res.body.message).toEqual(["User Found Successfully"]);
    expect(res.body.data).toMatchObject({
      vet: { id: `app-1_vet-${a.vet.id}` },
      identity: `local-app-${f.app.id}_user-${u.userId}`,
    });
    const inner = JSON.parse(res.body.data.stringify_response);
    expect(inner.user).toMatchObject({ id: u.userId, email: u.email });
    expect(inner.emergency_stats).toHaveProperty("can_activate_Emergency");
    expect(inner.twilioToken.split(".")).toHaveLength(3);
    const assigned = await a.client.next("consult:assigned");
    expect(assigned).toMatchObject({ channel: res.body.data.channel, user: { id: u.userId } });

    // No other vet: 503 with Retry-After.
    const u2 = await seedUser(f.t.gateway, f.app.id);
    const busy = await request(f.t.url, "POST", `/api/v2/${f.app.name}/talk-to-vet`, {
      headers: auth,
      body: { email: u2.email, conversation_request: "video", pet_id: u2.petId },
    });
    expect(busy.status).toBe(503);
    expect(busy.headers.get("retry-after")).toBe("30");
    expect(busy.body).toMatchObject({ success: false, status_code: 503, data: [] });

    const none = await request(f.t.url, "POST", `/api/v2/${f.app.name}/feedback`, {
      headers: auth,
      body: { type: "chat", channel_sid: res.body.data.channel },
    });
    expect(none.status).toBe(404);
    const end = await request(f.t.url, "POST", `/api/v2/${f.app.name}/end`, {
      headers: auth,
      body: { channel_sid: res.body.data.channel },
    });
    expect(end.status).toBe(200);
    expect(await a.client.next("consult:ended")).toMatchObject({
      consultation_id: assigned.consultation_id,
      ended_by: "user",
    });
    const again = await request(f.t.url, "POST", `/api/v2/${f.app.name}/end`, {
      headers: auth,
      body: { channel_sid: res.body.data.channel },
    });
    expect(again.status).toBe(200); // idempotent
    const unknown = await request(f.t.url, "POST", `/api/v2/${f.app.name}/end`, {
      headers: auth,
      body: { channel_sid: "CHnope" },
    });
    expect(unknown.status).toBe(404);
    await a.client.sendFeedback(assigned.consultation_id, "Vet visit", "Limping");
    const fb = await request(f.t.url, "POST", `/api/v2/${f.app.name}/feedback`, {
      headers: auth,
      body: { type: "chat", channel_sid: res.body.data.channel },
    });
    expect(fb.body).toMatchObject({
      status_code: 200,
      message: ["Vet Feedback"],
      data: { recommendation: "Vet visit", reason: "Limping" },
    });
    const invalid = await request(f.t.url, "POST", `/api/v2/${f.app.name}/feedback`, {
      headers: auth,
      body: { type: "video" },
    });
    expect(invalid.status).toBe(422);
  });
});

describe("socket flows (short timers)", () => {
  const f = floor({ OFFER_TIMEOUT_MS: "600", QUEUE_TIMEOUT_MS: "1500", USER_GRACE_MS: "600", WRAPUP_MS: "800" });
  const { sdkVetOnline, sdkOwner } = f;

  it("offer timeout: revoked, vet set away (offer_timeout), next vet offered", async () => {
    const a = await sdkVetOnline();
    const b = await sdkVetOnline();
    const { user, client: u } = await sdkOwner();
    const data = await u.request({ conversation_request: "chat", pet_id: user.petId });
    await a.client.next("consult:offer");
    expect(await a.client.next("consult:offer_revoked", () => true, 3000)).toEqual({
      consultation_id: data.consultation_id,
      reason: "timeout",
    });
    expect(await a.client.next("presence", (p) => p.reason === "offer_timeout")).toEqual({
      status: "away",
      reason: "offer_timeout",
    });
    expect((await b.client.next("consult:offer")).consultation_id).toBe(data.consultation_id);
    await expect(a.client.accept(data.consultation_id)).rejects.toMatchObject({ kind: "rejected", statusCode: 409 });
    await b.client.accept(data.consultation_id);
    await b.client.end(data.consultation_id);
  });

  it("expiry: no vet within QUEUE_TIMEOUT_MS → consult:expired", async () => {
    const { user, client: u } = await sdkOwner();
    const data = await u.request({ conversation_request: "chat", pet_id: user.petId });
    expect(await u.next("consult:expired", () => true, 4000)).toEqual({ consultation_id: data.consultation_id });
    await f.t.gateway.engine.flush();
    const rec = await f.t.gateway.ctx.repos.ledger.get(data.consultation_id);
    expect(rec?.status).toBe("expired");
  });

  it("user grace: a disconnected owner keeps the place until USER_GRACE_MS, then it is cancelled", async () => {
    const { user, client: u } = await sdkOwner();
    const data = await u.request({ conversation_request: "chat", pet_id: user.petId });
    u.close();
    await new Promise((r) => setTimeout(r, 200));
    const back = track(await ownerActor(f.t.url, user.token));
    expect(await back.next("consult:state")).toMatchObject({
      consultation_id: data.consultation_id,
      status: "queued",
      position: 1,
    });
    back.close();
    await expect
      .poll(async () => (await f.t.gateway.ctx.repos.ledger.get(data.consultation_id))?.status, { timeout: 4000 })
      .toBe("cancelled");
  });

  it("wrap-up: the vet gets no offer until feedback (or WRAPUP_MS)", async () => {
    const a = await sdkVetOnline();
    const o1 = await sdkOwner();
    const r1 = await o1.client.request({ conversation_request: "chat", pet_id: o1.user.petId });
    await a.client.next("consult:offer");
    await a.client.accept(r1.consultation_id);
    await a.client.end(r1.consultation_id);
    const o2 = await sdkOwner();
    const r2 = await o2.client.request({ conversation_request: "chat", pet_id: o2.user.petId });
    await a.client.none("consult:offer", (p) => p.consultation_id === r2.consultation_id, 300);
    await a.client.sendFeedback(r1.consultation_id, "ok", "ok");
    await a.client.next("consult:offer", (p) => p.consultation_id === r2.consultation_id, 2000);
    await a.client.accept(r2.consultation_id);
    await a.client.end(r2.consultation_id);

    // Without feedback, wrap-up ends after WRAPUP_MS.
    const o3 = await sdkOwner();
    const r3 = await o3.client.request({ conversation_request: "chat", pet_id: o3.user.petId });
    await a.client.none("consult:offer", (p) => p.consultation_id === r3.consultation_id, 300);
    await a.client.next("consult:offer", (p) => p.consultation_id === r3.consultation_id, 3000);
  });
});
