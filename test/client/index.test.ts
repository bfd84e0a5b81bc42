/**
 * The client SDK against a real gateway (real HTTP, Socket.IO, PostgreSQL): connect, a full
 * chat consultation through both clients, and acknowledgements turned into results or errors.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  createOwnerClient,
  createVetClient,
  GatewayError,
  type OwnerClient,
  type OwnerEvents,
  type VetClient,
  type VetEvents,
} from "../../src/client/index.js";
import { seedApp, seedUser, seedVet } from "../support/actors.js";
import { startTestGateway, type TestGateway } from "../support/gateway.js";
import { countingGetter, ownerTokens, Recorder, vetLogin } from "./recorder.js";

const VET_EVENTS: Array<keyof VetEvents> = [
  "consult:offer",
  "consult:offer_revoked",
  "presence",
  "consult:ended",
  "call:status",
];
const OWNER_EVENTS: Array<keyof OwnerEvents> = [
  "consult:queued",
  "consult:matched",
  "consult:ended",
  "consult:feedback",
  "consult:state",
  "call:incoming",
];

describe("client SDK", () => {
  let t: TestGateway;
  let app: Awaited<ReturnType<typeof seedApp>>;
  const open: Array<VetClient | OwnerClient> = [];
  const track = <C extends VetClient | OwnerClient>(c: C): C => {
    open.push(c);
    return c;
  };

  beforeAll(async () => {
    t = await startTestGateway({ env: { USER_GRACE_MS: "0" } });
    app = await seedApp(t.gateway);
  });
  afterEach(async () => {
    for (const c of open.splice(0)) c.close();
    await expect.poll(async () => (await t.gateway.engine.stats()).open_consultations, { timeout: 5000 }).toBe(0);
  });
  afterAll(() => t.close());

  async function onlineVet() {
    const v = await seedVet(t.gateway);
    const vet = track(
      createVetClient({
        url: t.url,
        getToken: () => vetLogin(t.url, v.email, "password-123"),
        transports: ["websocket"],
      }),
    );
    const rec = new Recorder<VetEvents>(vet, VET_EVENTS);
    await rec.status("connected");
    expect(await vet.setAvailability("available")).toEqual({ status: "available" });
    return { v, vet, rec };
  }

  async function owner() {
    const u = await seedUser(t.gateway, app.id);
    const getter = countingGetter(ownerTokens(t.gateway, app.id, u.userId));
    const client = track(createOwnerClient({ url: t.url, getToken: getter.get, transports: ["websocket"] }));
    const rec = new Recorder<OwnerEvents>(client, OWNER_EVENTS);
    return { u, client, rec, getter };
  }

  it("connects with a token from the getter and reports its status", async () => {
    const { client, rec, getter } = await owner();
    expect(client.status).toBe("connecting");
    await rec.status("connected");
    expect(getter.calls).toBe(1);
    expect(rec.statuses).toEqual(["connected"]);
    const tok = await client.refreshTwilioToken();
    expect(tok.twilioToken).toMatch(/^ey/);
    expect(Date.parse(tok.expires_at)).toBeGreaterThan(Date.now());
    client.close();
    expect(client.status).toBe("disconnected");
    expect(rec.statuses).toEqual(["connected", "disconnected"]);
    await expect(client.refreshTwilioToken()).rejects.toMatchObject({ kind: "disconnected", statusCode: 0 });
  });

  it("waits with autoConnect false until connect()", async () => {
    const u = await seedUser(t.gateway, app.id);
    const getter = countingGetter(ownerTokens(t.gateway, app.id, u.userId));
    const client = track(createOwnerClient({ url: t.url, getToken: getter.get, autoConnect: false }));
    const rec = new Recorder<OwnerEvents>(client, []);
    await new Promise((r) => setTimeout(r, 100));
    expect([client.status, getter.calls]).toEqual(["disconnected", 0]);
    client.connect();
    await rec.status("connected");
    expect(getter.calls).toBe(1);
  });

  it("runs a whole chat consultation through both clients", async () => {
    const { v, vet, rec: vr } = await onlineVet();
    const { u, client, rec: ur } = await owner();
    await ur.status("connected");

    const queued = await client.request({ conversation_request: "chat", pet_id: u.petId });
    expect(queued).toMatchObject({ status: "queued", position: 1 });
    const id = queued.consultation_id;

    const offer = await vr.next("consult:offer", (o) => o.consultation_id === id);
    expect(offer).toMatchObject({ type: "chat", requested: false });
    expect(Date.parse(offer.expires_at)).toBeGreaterThan(Date.now());

    const accepted = await vet.accept(id);
    expect(accepted).toMatchObject({ consultation_id: id, type: "chat", user: { id: u.userId } });
    expect(accepted.channel).toMatch(/^CH/);
    const matched = await ur.next("consult:matched", (m) => m.consultation_id === id);
    expect(matched).toMatchObject({ channel: accepted.channel, vet: { id: `app-1_vet-${v.id}` } });

    await client.end(id);
    expect(await vr.next("consult:ended", (e) => e.consultation_id === id)).toMatchObject({ ended_by: "user" });

    await vet.sendFeedback(id, "Rest and water", "Mild upset stomach", "follow_up");
    expect(await ur.next("consult:feedback", (f) => f.consultation_id === id)).toMatchObject({
      recommendation: "Rest and water",
      reason: "Mild upset stomach",
      outcome: "follow_up",
      type: "chat",
    });
  });

  it("rejects an error envelope as GatewayError 'rejected' with its status and messages", async () => {
    const { vet } = await onlineVet();
    const { u, client, rec } = await owner();
    await rec.status("connected");

    const bad = await vet.accept("no-such-consultation").catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(GatewayError);
    expect(bad).toMatchObject({ kind: "rejected" });
    expect([404, 409]).toContain((bad as GatewayError).statusCode);

    const invalid = await client.request({ conversation_request: "chat", pet_id: -1 }).catch((e: unknown) => e);
    expect(invalid).toMatchObject({ kind: "rejected", statusCode: 422 });
    expect((invalid as GatewayError).messages.length).toBeGreaterThan(0);

    // Accepting an offer another vet already took → 409.
    const { vet: other } = await onlineVet();
    const { consultation_id: id } = await client.request({ conversation_request: "chat", pet_id: u.petId });
    const taken = await Promise.allSettled([vet.accept(id), other.accept(id)]);
    const rejected = taken.filter((r) => r.status === "rejected").map((r) => r.reason as GatewayError);
    expect(taken.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    expect(rejected[0]).toMatchObject({ kind: "rejected", statusCode: 409 });
    await client.end(id);
  });
});
