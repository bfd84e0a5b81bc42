/**
 * PROTOCOL §6, record first, then tell: the gateway reaches PostgreSQL through a TCP proxy
 * that the test cuts during accept, end, feedback, talk-to-vet and consult:request. The
 * caller gets 503, nobody else hears anything, live state is as before, and the same step
 * works once the link is back. The ledger written behind during a cut arrives after it, in order.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { Gateway } from "../../src/server.js";
import { seedApp, seedUser, seedVet, userClient, vetClient, type TestClient } from "../support/actors.js";
import {
  basicAuth,
  request,
  startGatewayBehindDbProxy,
  TEST_ADMIN_TOKEN,
  type GatewayBehindProxy,
} from "../support/gateway.js";
import type { TcpProxy } from "../support/tcp-proxy.js";

const admin = { authorization: `Bearer ${TEST_ADMIN_TOKEN}` };

describe("record first: PostgreSQL cut behind a proxy", () => {
  let env: GatewayBehindProxy;
  let proxy: TcpProxy;
  let gw: Gateway;
  let url: string;
  let app: Awaited<ReturnType<typeof seedApp>>;
  const clients: TestClient[] = [];

  beforeAll(async () => {
    env = await startGatewayBehindDbProxy("recfirst", {
      ADMIN_TOKEN: TEST_ADMIN_TOKEN,
      DATABASE_TIMEOUT_MS: "1000",
      OFFER_TIMEOUT_MS: "60000",
      // An owner leaving at the end of a test takes their request along.
      USER_GRACE_MS: "0",
    });
    ({ gw, url, proxy } = env);
    app = await seedApp(gw);
  });
  afterEach(async () => {
    proxy.restore();
    for (const c of clients.splice(0)) c.close();
    await expect.poll(async () => (await request(url, "GET", "/readyz")).status, { timeout: 10_000 }).toBe(200);
  });
  afterAll(async () => {
    await env?.close();
  });

  /** A vet online and available, and an owner connected; both kept for cleanup. */
  async function pair() {
    const v = await seedVet(gw);
    const u = await seedUser(gw, app.id);
    const vet = await vetClient(url, v.token);
    const owner = await userClient(url, u.token);
    clients.push(vet, owner);
    return { v, u, vet, owner };
  }

  async function requestAndOffer(owner: TestClient, vet: TestClient, petId: number) {
    const r = await owner.ask("consult:request", { pet_id: petId, conversation_request: "chat" });
    expect(r.success).toBe(true);
    await vet.next("consult:offer", (p) => p.consultation_id === r.data.consultation_id);
    return r.data.consultation_id as string;
  }

  /** The consultation as the database has it (`GET /admin/v1/consultations/{id}`). */
  const audit = async (id: string) => {
    const res = await fetch(`${url}/admin/v1/consultations/${id}`, { headers: admin });
    return ((await res.json()) as { data: any }).data;
  };

  /** Waits until the database is reachable again (the pool reconnects). */
  async function restore() {
    proxy.restore();
    await expect.poll(async () => (await request(url, "GET", "/readyz")).status, { timeout: 10_000 }).toBe(200);
  }

  it.each(["refuse", "stall"] as const)(
    "cut (%s) during accept: the vet gets 503, the owner hears nothing; after restore the vet accepts and the database agrees",
    async (mode) => {
      const { u, vet, owner } = await pair();
      const id = await requestAndOffer(owner, vet, u.petId);
      await expect.poll(async () => (await audit(id)).offers.length, { timeout: 5000 }).toBe(1);
      proxy.cut(mode);
      const refused = await vet.ask("consult:accept", { consultation_id: id });
      expect(refused).toMatchObject({ success: false, status_code: 503 });
      await owner.none("consult:matched", () => true, 300);
      await restore();
      expect(await audit(id)).toMatchObject({ status: "offered", vet_id: null });
      const accepted = await vet.ask("consult:accept", { consultation_id: id });
      expect(accepted).toMatchObject({ success: true });
      expect(await owner.next("consult:matched")).toMatchObject({ consultation_id: id });
      const row = await audit(id);
      expect(row).toMatchObject({ status: "active", channel_sid: accepted.data.channel });
      expect(row.offers.map((o: any) => o.outcome)).toEqual(["accepted"]);
    },
  );

  it("cut during end: 503, still active everywhere; after restore the end works", async () => {
    const { u, vet, owner } = await pair();
    const id = await requestAndOffer(owner, vet, u.petId);
    expect((await vet.ask("consult:accept", { consultation_id: id })).success).toBe(true);
    proxy.cut("refuse");
    expect(await vet.ask("consult:end", { consultation_id: id })).toMatchObject({ success: false, status_code: 503 });
    expect(await owner.ask("consult:end", { consultation_id: id })).toMatchObject({ success: false, status_code: 503 });
    await owner.none("consult:ended", () => true, 300);
    await restore();
    expect((await audit(id)).status).toBe("active");
    // Still live: the vet can start a call on it and end it.
    expect(await vet.ask("consult:end", { consultation_id: id })).toMatchObject({ success: true });
    expect(await owner.next("consult:ended")).toMatchObject({ consultation_id: id, ended_by: "vet" });
    expect(await audit(id)).toMatchObject({ status: "ended", ended_by: "vet" });
  });

  it("cut during feedback: 503 and no consult:feedback; after restore it is stored and relayed", async () => {
    const { u, vet, owner } = await pair();
    const id = await requestAndOffer(owner, vet, u.petId);
    expect((await vet.ask("consult:accept", { consultation_id: id })).success).toBe(true);
    const fb = { consultation_id: id, recommendation: "Rest", reason: "Mild", outcome: "resolved" };
    proxy.cut("refuse");
    expect(await vet.ask("consult:feedback", fb)).toMatchObject({ success: false, status_code: 503 });
    await owner.none("consult:feedback", () => true, 300);
    await restore();
    expect((await audit(id)).feedback).toBeNull();
    expect(await vet.ask("consult:feedback", fb)).toMatchObject({ success: true });
    expect(await owner.next("consult:feedback")).toMatchObject({ consultation_id: id, recommendation: "Rest" });
    expect((await audit(id)).feedback).toMatchObject({ recommendation: "Rest", reason: "Mild" });
  });

  it("cut during talk-to-vet: 503 with Retry-After, no vet left busy; after restore it assigns", async () => {
    const v = await seedVet(gw);
    const u = await seedUser(gw, app.id);
    const vet = await vetClient(url, v.token);
    clients.push(vet);
    const talk = () =>
      request(url, "POST", `/api/v2/${app.name}/talk-to-vet`, {
        headers: { authorization: basicAuth(app.name, app.secret) },
        body: { email: u.email, conversation_request: "chat", pet_id: u.petId },
      });
    const openBefore = (await gw.engine.stats()).open_consultations;
    proxy.cut("refuse");
    const refused = await talk();
    expect(refused.status).toBe(503);
    expect(refused.headers.get("retry-after")).toMatch(/^\d+$/);
    await vet.none("consult:assigned", () => true, 300);
    await restore();
    expect((await gw.engine.stats()).open_consultations).toBe(openBefore);
    const ok = await talk();
    expect(ok.status).toBe(200);
    expect(await vet.next("consult:assigned")).toMatchObject({ consultation_id: ok.body.data.consultation_id });
    expect(await audit(ok.body.data.consultation_id)).toMatchObject({
      status: "active",
      vet_id: v.id,
      channel_sid: ok.body.data.channel,
    });
  });

  it("cut during consult:request: 503 and nothing queued", async () => {
    const { u, vet, owner } = await pair();
    const openBefore = (await gw.engine.stats()).open_consultations;
    proxy.cut("refuse");
    const r = await owner.ask("consult:request", { pet_id: u.petId, conversation_request: "chat" });
    expect(r).toMatchObject({ success: false, status_code: 503 });
    await vet.none("consult:offer", () => true, 300);
    expect(await gw.engine.stats()).toMatchObject({ queue_length: 0, open_consultations: openBefore });
    await restore();
    await requestAndOffer(owner, vet, u.petId);
  });

  it("ledger writes behind during a cut arrive after restore, in order", async () => {
    const a = await pair();
    const v2 = await seedVet(gw);
    const second = await vetClient(url, v2.token);
    clients.push(second);
    const id = await requestAndOffer(a.owner, a.vet, a.u.petId);
    await expect.poll(async () => (await audit(id)).offers.length, { timeout: 5000 }).toBe(1);
    proxy.cut("refuse");
    // Routing goes on without the database: the decline is acked and vet 2 is offered it.
    expect(await a.vet.ask("consult:decline", { consultation_id: id })).toMatchObject({ success: true });
    await second.next("consult:offer", (p) => p.consultation_id === id);
    await new Promise((r) => setTimeout(r, 500)); // a few retries happen during the cut
    await restore();
    await expect
      .poll(async () => (await audit(id)).offers.map((o: any) => [o.vet_id, o.outcome]), { timeout: 15_000 })
      .toEqual([
        [a.v.id, "declined"],
        [v2.id, null],
      ]);
    const row = await audit(id);
    expect(row.status).toBe("offered");
    expect(row.events.map((e: any) => e.to_status)).toEqual(["queued", "offered", "queued", "offered"]);
    const metrics = await (await fetch(`${url}/metrics`, { headers: admin })).text();
    expect(metrics).toMatch(/history_write_retries_total [1-9]/);
  });
});
