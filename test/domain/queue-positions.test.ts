import { beforeEach, describe, expect, it, vi } from "vitest";
import { QUEUE_HEAD_LIMIT } from "../../src/domain/routing-rules.js";
import { WHOLE_QUEUE_EVERY } from "../../src/domain/timekeeper.js";
import { MemoryRoutingStore } from "../../src/routing-store/memory/store.js";
import { makeEngine } from "../support/engine-fakes.js";
import { newRequest } from "../routing-store/contract.js";
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
    expect(t.notifier.of("user:1:1", "consult:queued")[0]).toMatchObject({
      consultation_id: r.consultation_id,
      position: 1,
    });
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

  it("with more waiting than the head holds, places move on the tick that reads the whole queue, every WHOLE_QUEUE_EVERY ticks", async () => {
    const first = await request(1);
    const now = t.clock.now();
    for (let i = 0; i < QUEUE_HEAD_LIMIT; i++) {
      await store.enqueue(newRequest({ userId: 1000 + i, createdAt: now, queueDeadline: now + 600_000 }));
    }
    await request(2); // last of QUEUE_HEAD_LIMIT + 2
    const placesOf2 = () => t.notifier.of("user:1:2", "consult:queued").map((q: { position: number }) => q.position);
    expect(placesOf2()).toEqual([QUEUE_HEAD_LIMIT + 2]);
    await t.engine.tick(); // a whole read: learns how long the queue is
    await t.engine.cancel(1, 1, first.consultation_id);
    for (let i = 1; i < WHOLE_QUEUE_EVERY; i++) await t.engine.tick();
    expect(placesOf2()).toEqual([QUEUE_HEAD_LIMIT + 2]); // the head reads in between tell nothing
    await t.engine.tick();
    expect(placesOf2()).toEqual([QUEUE_HEAD_LIMIT + 2, QUEUE_HEAD_LIMIT + 1]);
  });

  it("with no more waiting than the head holds, places move on the next tick", async () => {
    const first = await request(1);
    const now = t.clock.now();
    for (let i = 0; i < QUEUE_HEAD_LIMIT - 2; i++) {
      await store.enqueue(newRequest({ userId: 1000 + i, createdAt: now, queueDeadline: now + 600_000 }));
    }
    await request(2); // last of QUEUE_HEAD_LIMIT
    const placesOf2 = () => t.notifier.of("user:1:2", "consult:queued").map((q: { position: number }) => q.position);
    await t.engine.tick();
    await t.engine.cancel(1, 1, first.consultation_id);
    await t.engine.tick();
    expect(placesOf2()).toEqual([QUEUE_HEAD_LIMIT, QUEUE_HEAD_LIMIT - 1]);
  });

  it("a waiting request one whole-queue read missed (a paged read it came back behind) is looked for in one more read", async () => {
    await request(1);
    const b = await request(2);
    const reads = vi.spyOn(store, "snapshot").mockResolvedValueOnce({ queue: [], vets: [] });
    expect(await t.engine.request({ appId: 1, userId: 2, petId: 1, type: "chat" })).toMatchObject({
      consultation_id: b.consultation_id,
      position: 2,
    });
    expect(reads).toHaveBeenCalledTimes(2);
  });
});
