import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { QUEUE_HEAD_LIMIT } from "../../src/domain/routing-rules.js";
import { WHOLE_QUEUE_EVERY } from "../../src/domain/timekeeper.js";
import { MemoryRoutingStore } from "../../src/routing-store/memory/store.js";
import { fakeSkills, fakeSpecies, makeEngine } from "../support/engine-fakes.js";
import { newRequest } from "../routing-store/contract.js";
import { engineHelpers } from "./engine-helpers.js";

/** The routing pass (PROTOCOL §4): who is offered what, and when a pass runs. In-memory store, manual clock: no sleeps. */
describe("routing pass", () => {
  let store: MemoryRoutingStore;
  let t: ReturnType<typeof makeEngine>;
  const { online, request, offersTo } = engineHelpers(() => t);

  beforeEach(() => {
    store = new MemoryRoutingStore();
    t = makeEngine(store);
  });

  it("offers the longest-idle eligible vet first", async () => {
    await online(1);
    await online(2);
    await online(3);
    await request(1);
    expect(offersTo(1)).toHaveLength(1);
    expect(offersTo(2)).toHaveLength(0);
    expect(offersTo(1)[0]).toMatchObject({ type: "chat", requested: false, pet: { id: 1 } });
  });

  it("offers the requested vet first when eligible", async () => {
    await online(1);
    await online(2);
    await request(1, "vet2@example.com");
    expect(offersTo(2)[0]).toMatchObject({ requested: true });
    expect(offersTo(1)).toHaveLength(0);
  });

  it("falls back to the longest-idle vet when the requested vet is away, offline or busy", async () => {
    await online(1);
    await online(2, "away");
    await request(1, "vet2@example.com"); // away
    expect(offersTo(1)).toHaveLength(1);
    await request(2, "vet3@example.com"); // offline (never connected)
    expect(offersTo(2)).toHaveLength(0); // vet 2 is away
    await t.engine.setVetStatus(2, "available");
    expect(offersTo(2)).toHaveLength(1);
    await request(3, "vet1@example.com"); // vet 1 busy holding an offer
    expect(offersTo(1)).toHaveLength(1);
  });

  it("serves requests first come, first served", async () => {
    const a = await request(1);
    const b = await request(2);
    await online(5);
    expect(offersTo(5)).toHaveLength(1);
    expect(offersTo(5)[0].consultation_id).toBe(a.consultation_id);
    await t.engine.decline(5, a.consultation_id);
    // Vet 5 declined A, so B (next in line) is offered to it; A waits for another vet.
    expect(offersTo(5)[1].consultation_id).toBe(b.consultation_id);
  });

  it("decline offers the next vet at once and never re-offers the decliner", async () => {
    await online(1);
    await online(2);
    const r = await request(1);
    await t.engine.decline(1, r.consultation_id);
    expect(offersTo(2)[0].consultation_id).toBe(r.consultation_id);
    await t.engine.decline(2, r.consultation_id);
    expect(offersTo(1)).toHaveLength(1);
    await t.engine.flush();
    expect(t.ledger.offers.map((o) => o.outcome)).toEqual(["declined", "declined"]);
  });

  it("respects VET_MAX_CONSULTS", async () => {
    t = makeEngine(store, { routing: { vetMaxConsults: 2, wrapupMs: 0 } });
    await online(1);
    const a = await request(1);
    await t.engine.accept(1, a.consultation_id);
    const b = await request(2);
    await t.engine.accept(1, b.consultation_id);
    await request(3);
    expect(offersTo(1)).toHaveLength(2); // at capacity
    await t.engine.endByVet(1, a.consultation_id);
    expect(offersTo(1)).toHaveLength(3);
  });

  it("an end runs a routing pass only when a request still waits for an offer", async () => {
    t = makeEngine(store, { routing: { wrapupMs: 0 } });
    await online(1);
    const a = await request(1);
    await t.engine.accept(1, a.consultation_id);
    const passes = vi.spyOn(store, "headSnapshot");
    await t.engine.endByVet(1, a.consultation_id);
    expect(passes).not.toHaveBeenCalled(); // nobody waits: no pass
    const b = await request(2);
    await t.engine.accept(1, b.consultation_id);
    const c = await request(3); // vet 1 is busy: c waits
    passes.mockClear();
    await t.engine.endByVet(1, b.consultation_id);
    expect(passes).toHaveBeenCalled();
    expect(offersTo(1).at(-1)).toMatchObject({ consultation_id: c.consultation_id }); // at once, no tick
  });

  /** How far back a pass reads: the head of the queue for an event, all of it on the timer. */
  describe("head of the queue", () => {
    afterEach(() => {
      fakeSpecies.clear();
      fakeSkills.clear();
    });

    it("a new request behind the head is offered at once by its own pass", async () => {
      const now = t.clock.now();
      // QUEUE_HEAD_LIMIT cats wait longest; the only vet treats dogs.
      for (let i = 0; i < QUEUE_HEAD_LIMIT; i++) {
        await store.enqueue(
          newRequest({ userId: 1000 + i, species: "cat", createdAt: now, queueDeadline: now + 600_000 }),
        );
      }
      fakeSkills.set(1, { species: ["dog"] });
      await online(1);
      fakeSpecies.set(1, "dog");
      const reads = { head: vi.spyOn(store, "headSnapshot"), full: vi.spyOn(store, "snapshot") };
      const dog = await request(1);
      expect(offersTo(1).map((o) => o.consultation_id)).toEqual([dog.consultation_id]);
      expect(reads.head).toHaveBeenCalledWith(1, [dog.consultation_id]);
      expect(reads.full).not.toHaveBeenCalled();
    });

    it("a vet free again reads the head of the species it treats: a dog behind QUEUE_HEAD_LIMIT cats reaches a dogs-only vet at once", async () => {
      const now = t.clock.now();
      for (let i = 0; i <= QUEUE_HEAD_LIMIT; i++) {
        await store.enqueue(
          newRequest({ userId: 1000 + i, species: "cat", createdAt: now, queueDeadline: now + 600_000 }),
        );
      }
      fakeSpecies.set(1, "dog");
      const dog = await request(1); // no vet online: it waits, behind the cats
      fakeSkills.set(1, { species: ["dog"] });
      const full = vi.spyOn(store, "snapshot");
      await online(1);
      expect(offersTo(1).map((o) => o.consultation_id)).toEqual([dog.consultation_id]);
      expect(full).not.toHaveBeenCalled();
    });

    it("with more waiting than the head holds, the timer reads the whole queue once every WHOLE_QUEUE_EVERY ticks, the head in between", async () => {
      const now = t.clock.now();
      for (let i = 0; i <= QUEUE_HEAD_LIMIT; i++) {
        await store.enqueue(
          newRequest({ userId: 1000 + i, species: "cat", createdAt: now, queueDeadline: now + 600_000 }),
        );
      }
      await online(1, "away");
      await t.engine.tick(); // learns how long the queue is
      const reads = { head: vi.spyOn(store, "headSnapshot"), full: vi.spyOn(store, "snapshot") };
      for (let i = 0; i < WHOLE_QUEUE_EVERY; i++) await t.engine.tick();
      expect(reads.full).toHaveBeenCalledTimes(1);
      expect(reads.head).toHaveBeenCalledTimes(WHOLE_QUEUE_EVERY - 1);
    });

    /** More French dog requests than the head holds, in their language window; vet 1 treats dogs and speaks English. */
    async function frenchDogsAhead() {
      const now = t.clock.now();
      for (let i = 0; i <= QUEUE_HEAD_LIMIT; i++) {
        await store.enqueue(
          newRequest({
            userId: 1000 + i,
            species: "dog",
            language: "fr",
            createdAt: now,
            queueDeadline: now + 600_000,
          }),
        );
      }
      fakeSkills.set(1, { species: ["dog"] });
      fakeSpecies.set(1, "dog");
    }

    it("a vet free again who can take nothing in its head gets a request further back at once, from a whole-queue read", async () => {
      await frenchDogsAhead();
      const dog = await request(1); // English, behind the French ones; no vet online
      const full = vi.spyOn(store, "snapshot");
      await online(1);
      expect(full).toHaveBeenCalledTimes(1);
      expect(offersTo(1).map((o) => o.consultation_id)).toEqual([dog.consultation_id]);
    });

    it("a free vet the whole queue had nothing for is not read for again until its state changes; a new request it can take reaches it by its own pass", async () => {
      await frenchDogsAhead();
      const full = vi.spyOn(store, "snapshot");
      await online(1); // free, nothing for it anywhere
      expect(full).toHaveBeenCalledTimes(1);
      await t.engine.request({ appId: 1, userId: 2, petId: 1, type: "chat", language: "fr" }); // another it cannot take yet
      await t.engine.routingPass();
      expect(full).toHaveBeenCalledTimes(1);
      await t.engine.setVetStatus(1, "away");
      t.clock.advance(1000);
      await t.engine.setVetStatus(1, "available"); // a new idle spell: read it all again
      expect(full).toHaveBeenCalledTimes(2);
      const dog = await request(3);
      expect(full).toHaveBeenCalledTimes(2);
      expect(offersTo(1).map((o) => o.consultation_id)).toEqual([dog.consultation_id]);
    });
  });
});

/** When a caller of `routingPass()` is answered: after one pass that started after its call. */
describe("routing pass: waiting", () => {
  let store: MemoryRoutingStore;
  let t: ReturnType<typeof makeEngine>;

  beforeEach(() => {
    store = new MemoryRoutingStore();
    t = makeEngine(store);
  });

  /** Each pass stops at its snapshot until the test releases it; `started` counts passes. */
  function gatedPasses() {
    const gates: Array<() => void> = [];
    const snapshot = store.headSnapshot.bind(store);
    const spy = vi.spyOn(store, "headSnapshot").mockImplementation(async (...args) => {
      await new Promise<void>((r) => gates.push(r));
      return snapshot(...args);
    });
    return {
      started: () => spy.mock.calls.length,
      release: () => gates.shift()!(),
    };
  }

  it("answers a caller after the next pass, not after the passes later callers asked for", async () => {
    const passes = gatedPasses();
    const settled: string[] = [];
    const a = t.engine.routingPass().then(() => settled.push("a"));
    await vi.waitFor(() => expect(passes.started()).toBe(1));
    // b and c ask while pass 1 runs: one more pass serves both.
    const b = t.engine.routingPass().then(() => settled.push("b"));
    const c = t.engine.routingPass().then(() => settled.push("c"));
    passes.release();
    await a;
    await vi.waitFor(() => expect(passes.started()).toBe(2));
    // d asks while pass 2 runs: pass 3 is for d alone.
    const d = t.engine.routingPass().then(() => settled.push("d"));
    passes.release();
    await Promise.all([b, c]);
    await vi.waitFor(() => expect(passes.started()).toBe(3));
    // Pass 3 is still held, and b and c already have their answer.
    expect(settled).toEqual(["a", "b", "c"]);
    passes.release();
    await d;
    expect(settled).toEqual(["a", "b", "c", "d"]);
    expect(passes.started()).toBe(3);
  });

  it("rejects only the callers of a failed pass; the next pass still runs", async () => {
    const snapshot = store.headSnapshot.bind(store);
    let release!: () => void;
    vi.spyOn(store, "headSnapshot")
      .mockImplementationOnce(async () => {
        await new Promise<void>((r) => (release = r));
        throw new Error("store away");
      })
      .mockImplementation((...args) => snapshot(...args));
    const first = t.engine.routingPass();
    await vi.waitFor(() => expect(release).toBeTypeOf("function"));
    const second = t.engine.routingPass();
    release();
    await expect(first).rejects.toThrow("store away");
    await expect(second).resolves.toBeUndefined();
  });
});
