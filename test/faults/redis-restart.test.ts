/**
 * A gateway on a throwaway Redis that restarts empty (no persistence): it keeps serving,
 * readiness returns, and new vets and owners match. The rebuild of the lost live state
 * (PROTOCOL §6) is covered in `rebuild.test.ts`.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Gateway } from "../../src/server.js";
import { seedApp, seedUser, seedVet, TestClient, userClient, vetClient } from "../support/actors.js";
import { request } from "../support/gateway.js";
import { startGatewaysOnThrowawayRedis, type GatewaysOnThrowawayRedis } from "../support/redis-gateway.js";
import type { ThrowawayRedis } from "../support/redis-server.js";

describe("gateway on a Redis that restarts empty", () => {
  let env: GatewaysOnThrowawayRedis;
  let redis: ThrowawayRedis;
  let gw: Gateway;
  let url: string;
  const clients: TestClient[] = [];

  beforeAll(async () => {
    env = await startGatewaysOnThrowawayRedis("redisrestart", { USER_GRACE_MS: "0" });
    ({
      redis,
      gws: [gw],
      urls: [url],
    } = env);
  });
  afterAll(async () => {
    for (const c of clients) c.close();
    await env?.close();
  });

  it("keeps serving: readiness comes back and a new vet and owner match", async () => {
    const app = await seedApp(gw);
    const vetA = await seedVet(gw);
    const a = await vetClient(url, vetA.token);
    clients.push(a);
    const o1 = await seedUser(gw, app.id);
    const u1 = await userClient(url, o1.token);
    clients.push(u1);
    const r1 = await u1.ask("consult:request", { conversation_request: "chat", pet_id: o1.petId });
    const offer = await a.next("consult:offer", (p) => p.consultation_id === r1.data.consultation_id);
    expect((await a.ask("consult:accept", { consultation_id: offer.consultation_id })).success).toBe(true);
    const o2 = await seedUser(gw, app.id);
    const u2 = await userClient(url, o2.token);
    clients.push(u2);
    const r2 = await u2.ask("consult:request", { conversation_request: "chat", pet_id: o2.petId });
    expect(r2.data.status).toBe("queued");
    expect(await gw.engine.stats()).toMatchObject({ queue_length: 1, open_consultations: 2 });

    await redis.restart();
    await expect.poll(async () => (await request(url, "GET", "/readyz")).status, { timeout: 10_000 }).toBe(200);
    // Before the rebuild of §6 the live state was simply gone here (2026-12-01): request 2
    // was never offered again and vet A was in no routing state.

    const vetB = await seedVet(gw);
    const b = await vetClient(url, vetB.token);
    clients.push(b);
    // Once the queue is rebuilt, request 2 comes first: decline it so request 3 reaches B.
    const gotOld = await b
      .next("consult:offer", (p) => p.consultation_id === r2.data.consultation_id, 1500)
      .then(() => true)
      .catch(() => false);
    if (gotOld) await b.ask("consult:decline", { consultation_id: r2.data.consultation_id });

    const o3 = await seedUser(gw, app.id);
    const u3 = await userClient(url, o3.token);
    clients.push(u3);
    const r3 = await u3.ask("consult:request", { conversation_request: "video", pet_id: o3.petId });
    expect(r3.success).toBe(true);
    const offered = await Promise.race([
      b.next("consult:offer", (p) => p.consultation_id === r3.data.consultation_id, 5000).then(() => b),
      a.next("consult:offer", (p) => p.consultation_id === r3.data.consultation_id, 5000).then(() => a),
    ]);
    expect((await offered.ask("consult:accept", { consultation_id: r3.data.consultation_id })).success).toBe(true);
    await u3.next("consult:matched", (p) => p.consultation_id === r3.data.consultation_id);
  });
});
