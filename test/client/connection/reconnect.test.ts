/**
 * The SDK's connection life: ack timeouts, token expiry and refresh, reconnects after the
 * gateway drops the connection or restarts, and the owner's resume through `consult:state`.
 */
import type { Socket } from "socket.io";
import { afterAll, afterEach, beforeAll, describe, expect, it, onTestFinished } from "vitest";
import { SocketTokens } from "../../../src/auth/socket-tokens.js";
import {
  createOwnerClient,
  createVetClient,
  GatewayError,
  type OwnerClient,
  type OwnerEvents,
  type VetClient,
  type VetEvents,
} from "../../../src/client/index.js";
import { buildGateway, type Gateway } from "../../../src/server.js";
import { seedApp, seedUser, seedVet } from "../../support/actors.js";
import { startTestGateway, type TestGateway } from "../../support/gateway.js";
import { countingGetter, ownerTokens, Recorder, vetLogin } from "../recorder.js";

const OWNER_EVENTS: Array<keyof OwnerEvents> = ["consult:queued", "consult:matched", "consult:state", "consult:ended"];
const VET_EVENTS: Array<keyof VetEvents> = ["consult:offer", "presence"];

describe("client SDK: connection life", () => {
  let t: TestGateway;
  let app: Awaited<ReturnType<typeof seedApp>>;
  const open: Array<VetClient | OwnerClient> = [];
  const track = <C extends VetClient | OwnerClient>(c: C): C => {
    open.push(c);
    return c;
  };
  /** Tokens that are genuinely expired at the gateway: issued two minutes "ago". */
  let pastTokens: SocketTokens;

  beforeAll(async () => {
    // Redis keeps the live state across a restart of the (only) node.
    t = await startTestGateway({ redis: true });
    app = await seedApp(t.gateway);
    pastTokens = new SocketTokens(t.gateway.ctx.config.gatewaySecret, 60, { now: () => Date.now() - 120_000 });
  });
  afterEach(() => {
    for (const c of open.splice(0)) c.close();
  });
  afterAll(() => t.close());

  it("turns a missing acknowledgement into GatewayError 'timeout'", async () => {
    const v = await seedVet(t.gateway);
    // A packet middleware that swallows presence:set: the gateway never answers it.
    const stall = (s: Socket) =>
      s.use((packet, next) => {
        if (packet[0] !== "presence:set") next();
      });
    t.gateway.sockets.io.of("/vet").on("connection", stall);
    onTestFinished(() => {
      t.gateway.sockets.io.of("/vet").off("connection", stall);
    });
    const vet = track(
      createVetClient({ url: t.url, getToken: () => vetLogin(t.url, v.email, "password-123"), ackTimeoutMs: 300 }),
    );
    const rec = new Recorder<VetEvents>(vet, VET_EVENTS);
    await rec.status("connected");
    const started = Date.now();
    const err = await vet.setAvailability("available").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GatewayError);
    expect(err).toMatchObject({ kind: "timeout", statusCode: 0 });
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    // Other calls still work on the same connection.
    expect((await vet.refreshTwilioToken()).twilioToken).toMatch(/^ey/);
  });

  it("replaces a refused (expired) token with a fresh one from the getter", async () => {
    const u = await seedUser(t.gateway, app.id);
    const expired = await pastTokens.issue({ kind: "user", appId: app.id, userId: u.userId });
    // The getter first hands out a token the gateway refuses, as a stale cache would.
    const getter = countingGetter(ownerTokens(t.gateway, app.id, u.userId), [
      { token: expired.token, expires_at: new Date(Date.now() + 3_600_000).toISOString() },
    ]);
    const client = track(createOwnerClient({ url: t.url, getToken: getter.get }));
    const rec = new Recorder<OwnerEvents>(client, OWNER_EVENTS);
    await rec.status("connected");
    expect(getter.calls).toBe(2);
    expect(rec.statuses).not.toContain("unauthorized");
  });

  it("gives up as 'unauthorized' when fresh tokens keep being refused", async () => {
    const getter = countingGetter(() =>
      Promise.resolve({ token: "not-a-token", expires_at: new Date(Date.now() + 60_000).toISOString() }),
    );
    const client = track(createOwnerClient({ url: t.url, getToken: getter.get }));
    const rec = new Recorder<OwnerEvents>(client, OWNER_EVENTS);
    await rec.status("unauthorized");
    expect(getter.calls).toBeGreaterThanOrEqual(2);
    expect(getter.calls).toBeLessThanOrEqual(4);
    await expect(client.request({ conversation_request: "chat", pet_id: 1 })).rejects.toMatchObject({
      kind: "disconnected",
    });
  });

  it("fetches the next token at 80 % of the current one's life while connected", async () => {
    const u = await seedUser(t.gateway, app.id);
    const issue = ownerTokens(t.gateway, app.id, u.userId);
    // Each token claims a 1.5 s life, so the SDK refreshes after about 1.2 s.
    const getter = countingGetter(async () => ({
      ...(await issue()),
      expires_at: new Date(Date.now() + 1_500).toISOString(),
    }));
    const client = track(createOwnerClient({ url: t.url, getToken: getter.get }));
    const rec = new Recorder<OwnerEvents>(client, OWNER_EVENTS);
    await rec.status("connected");
    expect(getter.calls).toBe(1);
    await expect.poll(() => getter.calls, { timeout: 3000 }).toBeGreaterThanOrEqual(2);
    expect(client.status).toBe("connected");
  });

  it("reconnects after the gateway drops the connection; the owner resumes from consult:state", async () => {
    const u = await seedUser(t.gateway, app.id);
    const getter = countingGetter(ownerTokens(t.gateway, app.id, u.userId));
    const client = track(createOwnerClient({ url: t.url, getToken: getter.get }));
    const rec = new Recorder<OwnerEvents>(client, OWNER_EVENTS);
    await rec.status("connected");
    const { consultation_id: id } = await client.request({ conversation_request: "video", pet_id: u.petId });
    rec.clear();

    t.gateway.sockets.disconnectLocal();
    await rec.status("reconnecting");
    await rec.status("connected", 10_000);
    expect(rec.statuses).toEqual(["reconnecting", "connected"]);
    expect(await rec.next("consult:state")).toMatchObject({ consultation_id: id, status: "queued", type: "video" });
    // The cached token was still good: no new getToken call for the reconnect.
    expect(getter.calls).toBe(1);
    await client.cancel(id);

    // A second server-side disconnect soon after is final: two tabs never push each other out in turn.
    rec.clear();
    t.gateway.sockets.disconnectLocal();
    await rec.status("disconnected");
    await new Promise((r) => setTimeout(r, 1500));
    expect(rec.statuses).toEqual(["disconnected"]);
  });

  it("survives a gateway restart: reconnects with a fresh token and resumes the active consultation", async () => {
    const v = await seedVet(t.gateway);
    const vet = track(createVetClient({ url: t.url, getToken: () => vetLogin(t.url, v.email, "password-123") }));
    const vr = new Recorder<VetEvents>(vet, VET_EVENTS);
    await vr.status("connected");
    await vet.setAvailability("available");

    const u = await seedUser(t.gateway, app.id);
    // The owner's first token is refused after the restart (expired meanwhile, as far as the gateway knows).
    const expired = await pastTokens.issue({ kind: "user", appId: app.id, userId: u.userId });
    const good = await ownerTokens(t.gateway, app.id, u.userId)();
    const getter = countingGetter(ownerTokens(t.gateway, app.id, u.userId), [good]);
    const client = track(createOwnerClient({ url: t.url, getToken: getter.get }));
    const ur = new Recorder<OwnerEvents>(client, OWNER_EVENTS);
    await ur.status("connected");
    const { consultation_id: id } = await client.request({ conversation_request: "chat", pet_id: u.petId });
    await vr.next("consult:offer", (o) => o.consultation_id === id);
    const accepted = await vet.accept(id);
    await ur.next("consult:matched");
    // Make the cached token one the gateway will refuse on the next handshake.
    Object.assign(good, { token: expired.token });
    ur.clear();

    const port = Number(new URL(t.url).port);
    await t.gateway.close();
    await ur.status("reconnecting");
    let next: Gateway | null = null;
    try {
      next = await buildGateway({ ...t.config, port }, { database: t.database });
      await next.listen();
      await ur.status("connected", 15_000);
      expect(getter.calls).toBe(2);
      expect(await ur.next("consult:state")).toMatchObject({
        consultation_id: id,
        status: "active",
        channel: accepted.channel,
      });
      await vr.status("connected", 15_000);
      await client.end(id);
    } finally {
      await next?.close();
    }
  });
});
