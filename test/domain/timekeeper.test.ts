import { beforeEach, describe, expect, it } from "vitest";
import { MemoryRoutingStore } from "../../src/routing-store/memory/store.js";
import { makeEngine } from "../support/engine-fakes.js";
import { engineHelpers } from "./engine-helpers.js";

/** The timekeeper: deadlines, heartbeat, reaping and drain. In-memory store, manual clock: no sleeps. */
describe("timekeeper", () => {
  let store: MemoryRoutingStore;
  let t: ReturnType<typeof makeEngine>;
  const { online, user, request, offersTo } = engineHelpers(() => t);

  beforeEach(() => {
    store = new MemoryRoutingStore();
    t = makeEngine(store);
  });

  it("offer timeout revokes, sets the vet away with reason offer_timeout, and offers the next vet", async () => {
    await online(1);
    await online(2);
    const r = await request(1);
    t.clock.advance(29_999);
    await t.engine.tick();
    expect(offersTo(2)).toHaveLength(0);
    t.clock.advance(1);
    await t.engine.tick();
    expect(t.notifier.of("vet:1", "consult:offer_revoked")).toEqual([
      { consultation_id: r.consultation_id, reason: "timeout" },
    ]);
    expect(t.notifier.of("vet:1", "presence")).toEqual([{ status: "away", reason: "offer_timeout" }]);
    expect((await store.getVet(1))!.status).toBe("away");
    expect(offersTo(2)[0].consultation_id).toBe(r.consultation_id);
  });

  it("expires a request no vet accepted within QUEUE_TIMEOUT_MS", async () => {
    await user(1);
    const r = await request(1);
    t.clock.advance(600_000);
    await t.engine.tick();
    expect(t.notifier.of("user:1:1", "consult:expired")).toEqual([{ consultation_id: r.consultation_id }]);
    expect(await store.findOpenByUser(1, 1)).toBeNull();
    expect(t.ledger.rows.get(r.consultation_id)!.status).toBe("expired");
  });

  it("keeps a disconnected user's place for USER_GRACE_MS, then cancels", async () => {
    await user(1);
    const r = await request(1);
    await user(2);
    await request(2);
    await t.engine.userDisconnected(1, 1, "u1");
    t.clock.advance(59_999);
    await t.engine.tick();
    expect(await store.getConsultation(r.consultation_id)).not.toBeNull();
    t.clock.advance(1);
    await t.engine.tick();
    expect(await store.getConsultation(r.consultation_id)).toBeNull();
    expect(t.ledger.rows.get(r.consultation_id)!.status).toBe("cancelled");
    // The user behind moved up.
    expect(t.notifier.of("user:1:2", "consult:queued").at(-1)).toMatchObject({ position: 1 });
  });

  it("a user reconnecting within grace keeps the place and gets consult:state", async () => {
    await user(1);
    const r = await request(1);
    await t.engine.userDisconnected(1, 1, "u1");
    t.clock.advance(30_000);
    const state = await t.engine.userConnected(1, 1, "u1b");
    expect(state).toMatchObject({ consultation_id: r.consultation_id, status: "queued", position: 1 });
    t.clock.advance(60_000);
    await t.engine.tick();
    expect(await store.getConsultation(r.consultation_id)).not.toBeNull();
  });

  it("wrap-up ends by itself after WRAPUP_MS", async () => {
    await online(1);
    const a = await request(1);
    await t.engine.accept(1, a.consultation_id);
    await t.engine.endByVet(1, a.consultation_id);
    await request(2);
    t.clock.advance(59_999);
    await t.engine.tick();
    expect(offersTo(1)).toHaveLength(1);
    t.clock.advance(1);
    await t.engine.tick();
    expect(offersTo(1)).toHaveLength(2);
  });

  it("a node that stops heartbeating loses its vets; their offers go to the next vet", async () => {
    const other = makeEngine(store, { nodeId: "node-b", clock: t.clock, ledger: t.ledger });
    await t.engine.tick(); // node-a heartbeats
    await other.engine.tick(); // node-b heartbeats
    await other.engine.vetConnected(1, "v1");
    await other.engine.setVetStatus(1, "available");
    t.clock.advance(1000);
    await online(2);
    const r = await request(1);
    expect(other.notifier.of("vet:1", "consult:offer")).toHaveLength(0); // node-a notifies: one notifier per engine
    expect(offersTo(1)).toHaveLength(1);
    // node-b dies; node-a keeps ticking.
    for (let i = 0; i < 16; i++) {
      t.clock.advance(1000);
      await t.engine.tick();
    }
    expect((await store.getVet(1))!.connections).toBe(0);
    expect(offersTo(2)[0].consultation_id).toBe(r.consultation_id);
  });

  it("a node that paused past the TTL and was reaped asks its sockets to reconnect", async () => {
    let reaped = 0;
    const paused = makeEngine(store, {
      nodeId: "node-b",
      clock: t.clock,
      ledger: t.ledger,
      onNodeReaped: () => reaped++,
    });
    await paused.engine.tick();
    await paused.engine.vetConnected(1, "v1");
    t.clock.advance(16_000); // node-b pauses; node-a reaps it
    await t.engine.tick();
    expect((await store.getVet(1))!.connections).toBe(0);
    expect(reaped).toBe(0);
    await paused.engine.tick();
    expect(reaped).toBe(1);
    t.clock.advance(6_000);
    await paused.engine.tick(); // registered again: no second call
    expect(reaped).toBe(1);
  });

  it("drain hands this node's vets and offers back at once", async () => {
    const other = makeEngine(store, { nodeId: "node-b", clock: t.clock, ledger: t.ledger });
    await other.engine.vetConnected(1, "v1");
    await other.engine.setVetStatus(1, "available");
    t.clock.advance(1000);
    await online(2);
    const r = await request(1);
    expect(offersTo(1)).toHaveLength(1);
    await other.engine.drain();
    expect(other.notifier.of("vet:2", "consult:offer")[0].consultation_id).toBe(r.consultation_id);
  });
});
