/**
 * Rebuild of the live state (PROTOCOL §6): two gateway nodes on a throwaway Redis that
 * restarts empty, with a queued, an offered, an active and a wrap-up consultation.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Gateway } from "../../src/server.js";
import { seedApp, seedUser, seedVet, type TestClient, userClient, vetClient } from "../support/actors.js";
import { startGatewaysOnThrowawayRedis, type GatewaysOnThrowawayRedis } from "../support/redis-gateway.js";
import type { ThrowawayRedis } from "../support/redis-server.js";

const WRAPUP_MS = 60_000;

async function rebuildsTotal(gws: Gateway[]): Promise<number> {
  let n = 0;
  for (const gw of gws) n += (await gw.ctx.metrics.rebuilds.get()).values.reduce((a, v) => a + v.value, 0);
  return n;
}

describe("rebuild after Redis restarts empty, two nodes", () => {
  let env: GatewaysOnThrowawayRedis;
  let redis: ThrowawayRedis;
  let gws: Gateway[] = [];
  let urls: string[] = [];
  const clients: TestClient[] = [];

  beforeAll(async () => {
    env = await startGatewaysOnThrowawayRedis(
      "rebuild",
      { OFFER_TIMEOUT_MS: "60000", WRAPUP_MS: String(WRAPUP_MS), USER_GRACE_MS: "60000" },
      { nodes: 2 },
    );
    ({ gws, urls, redis } = env);
  });
  afterAll(async () => {
    for (const c of clients) c.close();
    await env?.close();
  });

  const track = (c: TestClient) => (clients.push(c), c);

  it("restores queued (in order), offered, active and wrap-up, once, and routing carries on", async () => {
    const [a, b] = gws;
    const app = await seedApp(a);
    // Wrap-up: vet W (node A) takes and ends a consultation.
    const vetW = await seedVet(a);
    const w = track(await vetClient(urls[0], vetW.token));
    const o4 = await seedUser(a, app.id);
    const u4 = track(await userClient(urls[0], o4.token));
    const r4 = await u4.ask("consult:request", { conversation_request: "chat", pet_id: o4.petId });
    await w.next("consult:offer", (p) => p.consultation_id === r4.data.consultation_id);
    expect((await w.ask("consult:accept", { consultation_id: r4.data.consultation_id })).success).toBe(true);
    expect((await w.ask("consult:end", { consultation_id: r4.data.consultation_id })).success).toBe(true);

    // Active: vet V1 (node A) with owner O1 (node B).
    const vet1 = await seedVet(a);
    const v1 = track(await vetClient(urls[0], vet1.token));
    const o1 = await seedUser(a, app.id);
    const u1 = track(await userClient(urls[1], o1.token));
    const r1 = await u1.ask("consult:request", { conversation_request: "chat", pet_id: o1.petId });
    await v1.next("consult:offer", (p) => p.consultation_id === r1.data.consultation_id);
    const accepted = await v1.ask("consult:accept", { consultation_id: r1.data.consultation_id });
    expect(accepted.success).toBe(true);

    // Offered: vet V2 (node B) holds the offer of O2's request; O3's waits behind it.
    const vet2 = await seedVet(a);
    const v2 = track(await vetClient(urls[1], vet2.token));
    const o2 = await seedUser(a, app.id);
    const u2 = track(await userClient(urls[1], o2.token));
    const r2 = await u2.ask("consult:request", { conversation_request: "chat", pet_id: o2.petId });
    await v2.next("consult:offer", (p) => p.consultation_id === r2.data.consultation_id);
    const o3 = await seedUser(a, app.id);
    const u3 = track(await userClient(urls[0], o3.token));
    const r3 = await u3.ask("consult:request", { conversation_request: "video", pet_id: o3.petId });
    expect(r3.data.status).toBe("queued");
    await a.engine.flush();
    await b.engine.flush();
    const channelSid = (await a.ctx.repos.ledger.get(r1.data.consultation_id))?.channelSid;
    expect(channelSid).toMatch(/^CH/);
    expect(await a.engine.stats()).toMatchObject({ queue_length: 2, open_consultations: 3 });
    const offersBefore = v2.all("consult:offer").length;
    // The first node to start found a new, empty Redis and built it (from an empty ledger).
    expect(await rebuildsTotal(gws)).toBe(1);

    await redis.restart();

    // Rebuilt within a few seconds: both requests back in the queue in their order, the
    // offered one offered again (its vet was not excluded), the active one with its vet.
    await expect.poll(() => rebuildsTotal(gws), { timeout: 8000 }).toBe(2);
    await v2.next(
      "consult:offer",
      (p) => p.consultation_id === r2.data.consultation_id && v2.all("consult:offer").length > offersBefore,
      8000,
    );
    expect(await rebuildsTotal(gws)).toBe(2);
    const snap = await a.ctx.repos.ledger.get(r3.data.consultation_id);
    expect(snap?.status).toBe("queued");
    const queue = (
      await (
        a.engine as unknown as { store: { snapshot(): Promise<{ queue: Array<{ id: string }> }> } }
      ).store.snapshot()
    ).queue;
    expect(queue.map((q) => q.id)).toEqual([r2.data.consultation_id, r3.data.consultation_id]);
    expect(await b.engine.stats()).toMatchObject({ queue_length: 2, open_consultations: 3 });

    // The active vet is busy with the same SIDs; the wrap-up vet is still in wrap-up.
    const store = (
      a.engine as unknown as { store: { getVet(id: number): Promise<any>; getConsultation(id: string): Promise<any> } }
    ).store;
    // Node A registers its sockets again on its next tick after seeing the new epoch.
    await expect
      .poll(() => store.getVet(vet1.id), { timeout: 3000 })
      .toMatchObject({ connections: 1, status: "available", activeConsultationIds: [r1.data.consultation_id] });
    expect(await store.getConsultation(r1.data.consultation_id)).toMatchObject({
      status: "active",
      vetId: vet1.id,
      channelSid,
    });
    const wv = await store.getVet(vetW.id);
    expect(wv).toMatchObject({ connections: 1, wrapupConsultationId: r4.data.consultation_id });
    expect(wv.wrapupUntil).toBeGreaterThan(Date.now());

    // V2 declines; a free vet connecting on node B gets it, then O3's.
    expect((await v2.ask("consult:decline", { consultation_id: r2.data.consultation_id })).success).toBe(true);
    const vet5 = await seedVet(a);
    const v5 = track(await vetClient(urls[1], vet5.token));
    await v5.next("consult:offer", (p) => p.consultation_id === r2.data.consultation_id, 5000);
    expect((await v5.ask("consult:accept", { consultation_id: r2.data.consultation_id })).success).toBe(true);
    await u2.next("consult:matched", (p) => p.consultation_id === r2.data.consultation_id);

    // End of the restored active consultation works and its owner (other node) hears it.
    expect((await v1.ask("consult:end", { consultation_id: r1.data.consultation_id })).success).toBe(true);
    await u1.next("consult:ended", (p) => p.consultation_id === r1.data.consultation_id);
    expect(await rebuildsTotal(gws)).toBe(2);
  });
});
