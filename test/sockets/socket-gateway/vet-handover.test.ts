/**
 * PROTOCOL §3 (vet `consult:state`), §4 (`VET_GRACE_MS` and the hand-over) and §6
 * (revocation: delete-user, disabled vets, `token:refresh` re-checks) end to end over real
 * sockets, real PostgreSQL and the in-memory routing store, with a short `VET_GRACE_MS`.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { seedApp, seedUser, seedVet, TestClient, userClient, vetClient } from "../../support/actors.js";
import { basicAuth, request, startTestGateway, TEST_ADMIN_TOKEN, type TestGateway } from "../../support/gateway.js";

const GRACE_MS = 700;

describe("vet resume and hand-over over sockets", () => {
  let t: TestGateway;
  let app: Awaited<ReturnType<typeof seedApp>>;
  const clients: TestClient[] = [];
  const track = <T extends TestClient>(c: T): T => {
    clients.push(c);
    return c;
  };

  beforeAll(async () => {
    t = await startTestGateway({ env: { VET_GRACE_MS: String(GRACE_MS), USER_GRACE_MS: "0", WRAPUP_MS: "0" } });
    app = await seedApp(t.gateway);
  });
  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    await expect.poll(async () => (await t.gateway.engine.stats()).open_consultations, { timeout: 5000 }).toBe(0);
  });
  afterAll(() => t.close());

  /** A vet and an owner in an active chat consultation. */
  async function activeConsultation() {
    const vet = await seedVet(t.gateway);
    const v = track(await vetClient(t.url, vet.token));
    const owner = await seedUser(t.gateway, app.id);
    const u = track(await userClient(t.url, owner.token));
    const req = await u.ask("consult:request", { conversation_request: "chat", pet_id: owner.petId });
    const id = req.data.consultation_id as string;
    await v.next("consult:offer", (p) => p.consultation_id === id);
    const acc = await v.ask("consult:accept", { consultation_id: id });
    expect(acc.status_code).toBe(200);
    await u.next("consult:matched");
    return { vet, v, owner, u, id, accepted: acc.data };
  }

  it("a vet console reload mid-consultation gets consult:state (fresh token); back in time nothing changes", async () => {
    const { vet, v, u, id, accepted } = await activeConsultation();
    v.close();
    await new Promise((r) => setTimeout(r, GRACE_MS / 3));
    const reloaded = track(await new TestClient(t.url, "/vet", vet.token).ready());
    const state = await reloaded.next("consult:state");
    expect(state).toEqual({ ...accepted, status: "active", twilioToken: expect.any(String) });
    expect(reloaded.all("presence")[0]).toEqual({ status: "away", reason: "connected" });
    // Well past the grace period: still active with this vet, the owner heard nothing.
    await u.none("consult:queued", (p) => p.reason === "vet_left", GRACE_MS + 300);
    const ended = await reloaded.ask("consult:end", { consultation_id: id });
    expect(ended.status_code).toBe(200);
  });

  it("an offer held across a console reload (another console open) comes again with the same expires_at", async () => {
    const vet = await seedVet(t.gateway);
    const first = track(await vetClient(t.url, vet.token));
    track(await new TestClient(t.url, "/vet", vet.token).ready()); // a second console
    const owner = await seedUser(t.gateway, app.id);
    const u = track(await userClient(t.url, owner.token));
    const req = await u.ask("consult:request", { conversation_request: "chat", pet_id: owner.petId });
    const offer = await first.next("consult:offer");
    first.close();
    await new Promise((r) => setTimeout(r, 100));
    const reloaded = track(await new TestClient(t.url, "/vet", vet.token).ready());
    expect(await reloaded.next("consult:offer")).toEqual(offer);
    expect(offer.consultation_id).toBe(req.data.consultation_id);
    expect((await reloaded.ask("consult:accept", { consultation_id: offer.consultation_id })).status_code).toBe(200);
    await u.next("consult:matched");
    await reloaded.ask("consult:end", { consultation_id: offer.consultation_id });
  });

  it("a vet not back within VET_GRACE_MS: the owner waits at the head (vet_left), the next vet's offer says transferred", async () => {
    const { v, u, id, accepted, vet } = await activeConsultation();
    // Another owner is already waiting when the hand-over happens.
    const other = await seedUser(t.gateway, app.id);
    const o = track(await userClient(t.url, other.token));
    const waiting = await o.ask("consult:request", { conversation_request: "chat", pet_id: other.petId });
    expect(waiting.data.position).toBe(1);
    v.close();

    const queued = await u.next("consult:queued", (p) => p.reason === "vet_left", GRACE_MS + 3000);
    expect(queued).toMatchObject({ consultation_id: id, position: 1, reason: "vet_left" });
    await o.next("consult:queued", (p) => p.position === 2);

    const next = await seedVet(t.gateway);
    const n = track(await vetClient(t.url, next.token));
    const offer = await n.next("consult:offer");
    expect(offer).toMatchObject({ consultation_id: id, transferred: true });
    const acc = await n.ask("consult:accept", { consultation_id: id });
    expect(acc.data).toMatchObject({ consultation_id: id, channel: accepted.channel });
    expect((await u.next("consult:matched", (p) => p.vet.id !== accepted.vet.id)).channel).toBe(accepted.channel);

    await t.gateway.engine.flush();
    const history = await t.gateway.ctx.repos.ledger.history(id);
    expect(history.map((h) => `${h.from}→${h.to}`)).toContain("active→queued");
    expect(history.find((h) => h.from === "active" && h.to === "queued")!.detail).toMatchObject({
      reason: "vet_left",
      from_vet_id: vet.id,
    });
    expect((await t.gateway.ctx.repos.ledger.get(id))!.vetId).toBe(next.id);
    // The old vet coming back resumes nothing.
    const back = track(await new TestClient(t.url, "/vet", vet.token).ready());
    await back.none("consult:state", () => true, 200);
    await n.ask("consult:end", { consultation_id: id });
  });

  it("disabling a vet hands its active consultation over at once", async () => {
    const { v, u, id, vet } = await activeConsultation();
    const closed = new Promise<string>((resolve) => v.socket.once("disconnect", (reason) => resolve(reason)));
    // Plain fetch: the reference test of the admin routes is not this file's concern.
    const res = await fetch(`${t.url}/admin/v1/vets/${vet.id}`, {
      method: "PATCH",
      headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}`, "content-type": "application/json" },
      body: JSON.stringify({ active: false }),
    });
    expect(res.status).toBe(200);
    expect(await closed).toBe("io server disconnect");
    expect(await u.next("consult:queued", (p) => p.reason === "vet_left", 1000)).toMatchObject({
      consultation_id: id,
      position: 1,
    });
    const next = await seedVet(t.gateway);
    const n = track(await vetClient(t.url, next.token));
    expect(await n.next("consult:offer")).toMatchObject({ consultation_id: id, transferred: true });
    await n.ask("consult:decline", { consultation_id: id });
    await u.ask("consult:cancel", { consultation_id: id });
  });

  it("token:refresh of a disabled vet: 401 ack, then the socket is closed", async () => {
    const vet = await seedVet(t.gateway);
    const v = track(await vetClient(t.url, vet.token));
    expect((await v.ask("token:refresh", {})).status_code).toBe(200);
    await t.gateway.ctx.repos.vets.setActive(vet.id, false); // straight in the database: no hook ran
    const closed = new Promise<string>((resolve) => v.socket.once("disconnect", (reason) => resolve(reason)));
    expect(await v.ask("token:refresh", {})).toMatchObject({ success: false, status_code: 401, data: [] });
    expect(await closed).toBe("io server disconnect");
  });

  it("delete-user ends the active consultation (vet told), closes the owner's sockets and refuses tokens", async () => {
    const { v, u, owner, id } = await activeConsultation();
    const second = track(await userClient(t.url, owner.token));
    const closed = [u, second].map(
      (c) => new Promise<string>((resolve) => c.socket.once("disconnect", (reason) => resolve(reason))),
    );
    const auth = { authorization: basicAuth(app.name, app.secret) };
    const res = await request(t.url, "POST", `/api/v2/${app.name}/delete-user`, {
      body: { email: owner.email, app_id: app.id },
      headers: auth,
    });
    expect(res.status).toBe(200);
    expect(await v.next("consult:ended")).toEqual({ consultation_id: id, ended_by: "system", reason: "user_deleted" });
    expect(await Promise.all(closed)).toEqual(["io server disconnect", "io server disconnect"]);
    expect((await t.gateway.ctx.repos.ledger.get(id))!.status).toBe("ended");
    // Refused: the handshake, a new socket token, a Twilio token refresh.
    await expect(new TestClient(t.url, "/user", owner.token).ready()).rejects.toThrow("unauthorized");
    const token = await request(t.url, "POST", `/api/v2/${app.name}/socket-token`, {
      body: { email: owner.email },
      headers: auth,
    });
    expect(token.status).toBe(404);
    const identity = `local-app-${app.id}_user-${owner.userId}`;
    const refresh = await request(t.url, "GET", `/api/v2/${app.name}/refresh?identity=${identity}`, { headers: auth });
    expect(refresh.status).toBe(404);
  });

  it("delete-user cancels a waiting request: the vet's offer is revoked", async () => {
    const vet = await seedVet(t.gateway);
    const v = track(await vetClient(t.url, vet.token));
    const owner = await seedUser(t.gateway, app.id);
    const u = track(await userClient(t.url, owner.token));
    const req = await u.ask("consult:request", { conversation_request: "chat", pet_id: owner.petId });
    await v.next("consult:offer");
    const auth = { authorization: basicAuth(app.name, app.secret) };
    const res = await request(t.url, "POST", `/api/v2/${app.name}/delete-user`, {
      body: { email: owner.email, app_id: app.id },
      headers: auth,
    });
    expect(res.status).toBe(200);
    expect(await v.next("consult:offer_revoked")).toEqual({
      consultation_id: req.data.consultation_id,
      reason: "cancelled",
    });
    expect((await t.gateway.ctx.repos.ledger.get(req.data.consultation_id))!.status).toBe("cancelled");
  });

  it("token:refresh of a deleted user (deleted straight in the database): 401 ack, then the socket is closed", async () => {
    const owner = await seedUser(t.gateway, app.id);
    const u = track(await userClient(t.url, owner.token));
    expect((await u.ask("token:refresh", {})).status_code).toBe(200);
    await t.gateway.ctx.repos.users.softDelete(app.id, owner.userId, new Date());
    const closed = new Promise<string>((resolve) => u.socket.once("disconnect", (reason) => resolve(reason)));
    expect(await u.ask("token:refresh", {})).toMatchObject({ success: false, status_code: 401, data: [] });
    expect(await closed).toBe("io server disconnect");
  });
});
