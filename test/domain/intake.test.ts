import { beforeEach, describe, expect, it, vi } from "vitest";
import { MemoryRoutingStore } from "../../src/routing-store/memory/store.js";
import { makeEngine } from "../support/engine-fakes.js";
import { engineHelpers } from "./engine-helpers.js";

/** Intake: consult:request and REST talk-to-vet. In-memory store, manual clock: no sleeps. */
describe("intake", () => {
  let store: MemoryRoutingStore;
  let t: ReturnType<typeof makeEngine>;
  const { online, request } = engineHelpers(() => t);

  beforeEach(() => {
    store = new MemoryRoutingStore();
    t = makeEngine(store);
  });

  it("returns the open consultation to a user who asks twice", async () => {
    const a = await request(1);
    const b = await request(1);
    expect(b.consultation_id).toBe(a.consultation_id);
  });

  it("records one request when a user asks many times at once (no duplicate rows to close)", async () => {
    const asks = await Promise.all(Array.from({ length: 20 }, () => request(1)));
    expect(new Set(asks.map((a) => a.consultation_id)).size).toBe(1);
    expect([...t.ledger.rows.values()].map((r) => r.status)).toEqual(["queued"]);
    // Another user's ask is not held behind them.
    const other = await request(2);
    expect(other.consultation_id).not.toBe(asks[0].consultation_id);
  });

  it("answers identical asks made at once from one pass through the store; a different ask waits its turn", async () => {
    const reads = vi.spyOn(store, "findOpenByUser");
    const same = Array.from({ length: 10 }, () => request(1));
    const otherPet = t.engine.request({ appId: 1, userId: 1, petId: 2, type: "chat" });
    const answers = await Promise.all([...same, otherPet]);
    expect(new Set(answers.map((a) => a.consultation_id)).size).toBe(1);
    // One read for the ten identical asks, one for the other (which finds the open consultation).
    expect(reads).toHaveBeenCalledTimes(2);
    // Once answered, the next ask is a fresh one.
    await request(1);
    expect(reads).toHaveBeenCalledTimes(3);
  });

  it("does not hold a user's next ask behind the routing pass its previous ask started", async () => {
    // The pass after the first ask is held at its snapshot (under load a pass keeps running).
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const snapshot = store.headSnapshot.bind(store);
    const reads = vi.spyOn(store, "headSnapshot").mockImplementationOnce(async (...args) => {
      await held;
      return snapshot(...args);
    });
    const first = request(1);
    await vi.waitFor(() => expect(reads).toHaveBeenCalled());
    // Answered while that pass is still held: the open consultation.
    const second = await request(1);
    release();
    expect(second.consultation_id).toBe((await first).consultation_id);
  });

  it("talk-to-vet assigns at once, prefers the requested vet, and says retry after 30 s when none is free", async () => {
    await online(1);
    await online(2);
    const a = await t.engine.talkToVet({
      appId: 1,
      userId: 1,
      petId: 1,
      type: "chat",
      doctorEmail: "vet2@example.com",
    });
    expect(a.vet.id).toBe("app-1_vet-2");
    expect(a.consultation.channelSid).toMatch(/^CH/);
    expect(t.notifier.of("vet:2", "consult:assigned")[0]).toMatchObject({ consultation_id: a.consultation.id });
    const b = await t.engine.talkToVet({
      appId: 1,
      userId: 2,
      petId: 1,
      type: "chat",
      doctorEmail: "vet2@example.com",
    });
    expect(b.vet.id).toBe("app-1_vet-1"); // requested vet busy → longest idle
    await expect(t.engine.talkToVet({ appId: 1, userId: 3, petId: 1, type: "chat" })).rejects.toMatchObject({
      name: "NoVetAvailableError",
      retryAfterS: 30,
    });
    // Asking again returns the same active consultation.
    const again = await t.engine.talkToVet({ appId: 1, userId: 1, petId: 1, type: "chat" });
    expect(again.consultation.id).toBe(a.consultation.id);
  });

  it("404s for an unknown user or pet", async () => {
    await expect(t.engine.request({ appId: 1, userId: 100, petId: 1, type: "chat" })).rejects.toMatchObject({
      status: 404,
    });
    await expect(t.engine.request({ appId: 1, userId: 1, petId: 100, type: "chat" })).rejects.toMatchObject({
      status: 404,
    });
  });
});
