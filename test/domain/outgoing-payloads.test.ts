import { beforeEach, describe, expect, it } from "vitest";
import { MemoryRoutingStore } from "../../src/routing-store/memory/store.js";
import { makeEngine } from "../support/engine-fakes.js";
import { engineHelpers } from "./engine-helpers.js";

/** Outgoing payload builders. In-memory store, manual clock: no sleeps. */
describe("outgoing payloads", () => {
  let store: MemoryRoutingStore;
  let t: ReturnType<typeof makeEngine>;
  const { online, request } = engineHelpers(() => t);

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
});
