/**
 * Redis unreachable for a few seconds, not emptied (PROTOCOL §6): the gateway keeps
 * running, calls that need Redis get a clean 503, and afterwards everything carries on
 * from the same live state, with no rebuild (the epoch marker is still there).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Gateway } from "../../src/server.js";
import { seedApp, seedUser, seedVet, type TestClient, userClient, vetClient } from "../support/actors.js";
import { request } from "../support/gateway.js";
import { startGatewaysOnThrowawayRedis, type GatewaysOnThrowawayRedis } from "../support/redis-gateway.js";
import type { TcpProxy } from "../support/tcp-proxy.js";

describe("Redis unreachable for a few seconds", () => {
  let env: GatewaysOnThrowawayRedis;
  let proxy: TcpProxy;
  let gw: Gateway;
  let url: string;
  const clients: TestClient[] = [];

  beforeAll(async () => {
    env = await startGatewaysOnThrowawayRedis(
      "rediscut",
      { REDIS_COMMAND_TIMEOUT_MS: "500", WRAPUP_MS: "0", USER_GRACE_MS: "60000" },
      { proxy: true },
    );
    ({
      gws: [gw],
      urls: [url],
    } = env);
    proxy = env.proxy!;
  });
  afterAll(async () => {
    for (const c of clients) c.close();
    await env?.close();
  });

  it("answers 503 while cut, then carries on with the same live state and no rebuild", async () => {
    const rebuilds = async () => (await gw.ctx.metrics.rebuilds.get()).values.reduce((a, v) => a + v.value, 0);
    const app = await seedApp(gw);
    const vet = await seedVet(gw);
    const v = await vetClient(url, vet.token);
    clients.push(v);
    const o1 = await seedUser(gw, app.id);
    const u1 = await userClient(url, o1.token);
    clients.push(u1);
    const r1 = await u1.ask("consult:request", { conversation_request: "chat", pet_id: o1.petId });
    await v.next("consult:offer", (p) => p.consultation_id === r1.data.consultation_id);
    expect((await v.ask("consult:accept", { consultation_id: r1.data.consultation_id })).success).toBe(true);
    const o2 = await seedUser(gw, app.id);
    const u2 = await userClient(url, o2.token);
    clients.push(u2);
    const r2 = await u2.ask("consult:request", { conversation_request: "chat", pet_id: o2.petId });
    expect(r2.data.status).toBe("queued");
    expect(await rebuilds()).toBe(1); // the new, empty Redis at start

    proxy.cut("refuse");
    try {
      await expect.poll(async () => (await request(url, "GET", "/readyz")).status, { timeout: 5000 }).toBe(503);
      const during = await v.ask("presence:set", { status: "available" });
      expect(during).toMatchObject({ success: false, status_code: 503 });
      await new Promise((r) => setTimeout(r, 2000));
    } finally {
      proxy.restore();
    }

    await expect.poll(async () => (await request(url, "GET", "/readyz")).status, { timeout: 10_000 }).toBe(200);
    expect(await gw.engine.stats()).toMatchObject({ queue_length: 1, open_consultations: 2 });
    // The active consultation ends; its vet is free and gets the waiting request.
    await expect
      .poll(async () => (await v.ask("consult:end", { consultation_id: r1.data.consultation_id })).success, {
        timeout: 5000,
      })
      .toBe(true);
    await u1.next("consult:ended", (p) => p.consultation_id === r1.data.consultation_id);
    await v.next("consult:offer", (p) => p.consultation_id === r2.data.consultation_id, 5000);
    expect((await v.ask("consult:accept", { consultation_id: r2.data.consultation_id })).success).toBe(true);
    await u2.next("consult:matched", (p) => p.consultation_id === r2.data.consultation_id);
    expect(await rebuilds()).toBe(1);
  });

  it("a vet and an owner who connect while Redis is cut are registered once it is back, and match", async () => {
    const app = await seedApp(gw);
    const vet = await seedVet(gw);
    const owner = await seedUser(gw, app.id);
    let v: TestClient;
    let u: TestClient;
    proxy.cut("refuse");
    try {
      await expect.poll(async () => (await request(url, "GET", "/readyz")).status, { timeout: 5000 }).toBe(503);
      // The handshake reads only PostgreSQL: both connect, but routing cannot know them yet.
      v = await vetClient(url, vet.token, false);
      clients.push(v);
      u = await userClient(url, owner.token);
      clients.push(u);
      expect(await v.ask("presence:set", { status: "available" })).toMatchObject({ success: false, status_code: 503 });
      expect(await u.ask("consult:request", { conversation_request: "chat", pet_id: owner.petId })).toMatchObject({
        success: false,
        status_code: 503,
      });
    } finally {
      proxy.restore();
    }
    // Registered by the retry, without reconnecting: the vet hears its presence, then works.
    await v.next("presence", (p) => p.reason === "connected", 10_000);
    await expect
      .poll(async () => (await v.ask("presence:set", { status: "available" })).success, { timeout: 5000 })
      .toBe(true);
    const r = await u.ask("consult:request", { conversation_request: "chat", pet_id: owner.petId });
    expect(r.success).toBe(true);
    await v.next("consult:offer", (p) => p.consultation_id === r.data.consultation_id);
    expect((await v.ask("consult:accept", { consultation_id: r.data.consultation_id })).success).toBe(true);
    await u.next("consult:matched", (p) => p.consultation_id === r.data.consultation_id);
  });
});
