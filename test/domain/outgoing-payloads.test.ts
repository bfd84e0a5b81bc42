import { beforeEach, describe, expect, it, vi } from "vitest";
import { QUEUE_HEAD_LIMIT } from "../../src/domain/routing-rules.js";
import { MemoryRoutingStore } from "../../src/routing-store/memory/store.js";
import { fakeHistoryCounts, makeEngine } from "../support/engine-fakes.js";
import { engineHelpers } from "./engine-helpers.js";

/** Outgoing payload builders. In-memory store, manual clock: no sleeps. */
describe("outgoing payloads", () => {
  let store: MemoryRoutingStore;
  let t: ReturnType<typeof makeEngine>;
  const { online, request, offersTo } = engineHelpers(() => t);

  beforeEach(() => {
    store = new MemoryRoutingStore();
    t = makeEngine(store);
  });

  it("stats counts the queue, vets by status and open consultations", async () => {
    await online(1);
    await online(2, "away");
    const a = await request(1);
    await t.engine.accept(1, a.consultation_id);
    await request(2);
    expect(await t.engine.stats()).toEqual({
      queue_length: 1,
      waiting_advice: 0,
      vets: { available: 0, offered: 0, busy: 1, wrapup: 0, away: 1, offline: 0 },
      open_consultations: 2,
    });
  });

  it("stats past the head limit come from the timer's last whole-queue read (at most 2 s old), not a read per poll", async () => {
    await online(1, "away");
    // The fake directory knows users 1–89 in any app.
    for (let n = 0; n <= QUEUE_HEAD_LIMIT; n++)
      await t.engine.request({ appId: 1 + Math.floor(n / 80), userId: 1 + (n % 80), petId: 1, type: "chat" });
    await t.engine.tick();
    const reads = vi.spyOn(store, "snapshot");
    for (let i = 0; i < 5; i++) expect((await t.engine.stats()).queue_length).toBe(QUEUE_HEAD_LIMIT + 1);
    expect(reads).not.toHaveBeenCalled();
    // Older than 2 s (no tick since): read afresh.
    t.clock.advance(2001);
    expect((await t.engine.stats()).queue_length).toBe(QUEUE_HEAD_LIMIT + 1);
    expect(reads).toHaveBeenCalledTimes(1);
  });

  it("stats of a short queue are read afresh, exact right after a change", async () => {
    await online(1, "away");
    await request(1);
    await t.engine.tick();
    await request(2);
    expect((await t.engine.stats()).queue_length).toBe(2);
  });

  it("history_count (PROTOCOL §10): counted with the profile at request time, carried by the offer, the accept and the vet's state", async () => {
    fakeHistoryCounts.set(1, 3);
    try {
      await online(1);
      const a = await request(1);
      expect(offersTo(1)[0]).toMatchObject({ consultation_id: a.consultation_id, history_count: 3 });
      // Counted once: a later change of the count does not reach this consultation's payloads.
      fakeHistoryCounts.set(1, 4);
      expect(await t.engine.accept(1, a.consultation_id)).toMatchObject({ history_count: 3 });
      expect((await t.engine.vetResume(1)).states[0]).toMatchObject({
        consultation_id: a.consultation_id,
        history_count: 3,
      });
      // A pet without earlier consultations: 0.
      await online(2);
      await t.engine.request({ appId: 1, userId: 2, petId: 2, type: "chat" });
      expect(offersTo(2)[0]).toMatchObject({ history_count: 0 });
    } finally {
      fakeHistoryCounts.clear();
    }
  });
});
