import { beforeEach, describe, expect, it } from "vitest";
import { MemoryRoutingStore } from "../../src/routing-store/memory-store.js";
import { makeEngine } from "../support/engine-fakes.js";
import { engineHelpers } from "./engine-helpers.js";

/** Queue positions and wait estimates. In-memory store, manual clock: no sleeps. */
describe("queue positions", () => {
  let store: MemoryRoutingStore;
  let t: ReturnType<typeof makeEngine>;
  const { user, request } = engineHelpers(() => t);

  beforeEach(() => {
    store = new MemoryRoutingStore();
    t = makeEngine(store);
  });

  it("queues with a position when no vet is online, and reports it", async () => {
    await user(1);
    const r = await request(1);
    expect(r).toMatchObject({ status: "queued", position: 1 });
    expect(t.notifier.of("user:1:1", "consult:queued")[0]).toMatchObject({ consultation_id: r.consultation_id, position: 1 });
    await user(2);
    expect((await request(2)).position).toBe(2);
  });

  it("estimates the wait from the default consultation length while no vet is available", async () => {
    await user(1);
    await request(1);
    await user(2);
    await request(2);
    expect(t.notifier.of("user:1:1", "consult:queued")[0]).toMatchObject({ position: 1, estimated_wait_s: 300 });
    expect(t.notifier.of("user:1:2", "consult:queued")[0]).toMatchObject({ position: 2, estimated_wait_s: 600 });
  });

  it("tells owners behind a departure their new place once, on the next tick", async () => {
    const a = await request(1);
    await request(2);
    await request(3);
    await t.engine.cancel(1, 1, a.consultation_id);
    expect(t.notifier.of("user:1:2", "consult:queued")).toHaveLength(1); // not before the tick
    await t.engine.tick();
    expect(t.notifier.of("user:1:2", "consult:queued").at(-1)).toMatchObject({ position: 1 });
    expect(t.notifier.of("user:1:3", "consult:queued").at(-1)).toMatchObject({ position: 2 });
    await t.engine.tick();
    expect(t.notifier.of("user:1:2", "consult:queued")).toHaveLength(2); // unchanged place: not sent again
    expect(t.notifier.of("user:1:3", "consult:queued")).toHaveLength(2);
  });
});
