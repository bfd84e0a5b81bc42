/** The Rebuilder over the memory store and ledger: no sleeps, a manual clock. */
import { describe, expect, it } from "vitest";
import { Rebuilder, type LocalConnections } from "../../src/domain/rebuild.js";
import type { Directory } from "../../src/domain/ports.js";
import type { LiveConsultation } from "../../src/domain/types.js";
import { ManualClock } from "../../src/lib/clock.js";
import { createLogger } from "../../src/lib/logger.js";
import { MemoryRoutingStore } from "../../src/routing-store/memory/store.js";
import { fakeDirectory, MemoryLedger, TEST_ROUTING } from "../support/engine-fakes.js";

const T0 = Date.UTC(2026, 0, 1);

function live(id: string, userId: number, createdAt: number, over: Partial<LiveConsultation> = {}): LiveConsultation {
  return {
    id,
    appId: 1,
    userId,
    petId: 5,
    type: "chat",
    status: "queued",
    seq: 1,
    createdAt,
    queueDeadline: createdAt + TEST_ROUTING.queueTimeoutMs,
    requestedVetId: null,
    offer: null,
    excludedVetIds: [],
    vetId: null,
    acceptedAt: null,
    channelSid: null,
    roomSid: null,
    profile: { user: { id: userId, first_name: "x", last_name: null, email: "x@example.com" }, pet: null },
    ...over,
  };
}

function rebuilder(
  store: MemoryRoutingStore,
  ledger: MemoryLedger,
  clock: ManualClock,
  nodeId: string,
  local?: LocalConnections,
) {
  let rebuilt = 0;
  const r = new Rebuilder({
    store,
    ledger,
    directory: fakeDirectory,
    clock,
    logger: createLogger("silent"),
    nodeId,
    routing: TEST_ROUTING,
    localConnections: local ? () => local : undefined,
    onRebuilt: () => rebuilt++,
  });
  return { r, rebuilt: () => rebuilt };
}

describe("Rebuilder", () => {
  it("restores open consultations and wrap-ups from the ledger once, and re-registers sockets as they were", async () => {
    const clock = new ManualClock(T0 + 10_000);
    const ledger = new MemoryLedger();
    await ledger.create(live("b", 2, T0 + 2, { species: "cat", language: "es", priority: "emergency" }), "socket");
    await ledger.create(live("a", 1, T0 + 1), "socket");
    await ledger.offerMade("a", 7, T0 + 3, T0 + 30_000, false);
    await ledger.offerEnded("a", 7, "declined", T0 + 4, true);
    await ledger.offerMade("a", 8, T0 + 5, T0 + 30_000, false); // outstanding: back to queued
    await ledger.create(
      live("c", 3, T0, { status: "active", vetId: 9, acceptedAt: T0 + 6, channelSid: "CH1" }),
      "rest",
    );
    await ledger.create(live("d", 4, T0, { status: "active", vetId: 10, acceptedAt: T0 }), "rest");
    await ledger.transition("d", "ended", T0 + 5_000, { endedBy: "vet" });

    const store = new MemoryRoutingStore();
    const local: LocalConnections = {
      vets: [{ vetId: 8, connId: "v8" }],
      users: [{ appId: 1, userId: 1, connId: "u1" }],
    };
    const one = rebuilder(store, ledger, clock, "n1", local);
    const two = rebuilder(store, ledger, clock, "n2");
    one.r.noteVetStatus(8, "available");

    expect(await one.r.check()).toBe("changed");
    expect(await two.r.check()).toBe("changed");
    expect(await one.r.check()).toBe("same");
    expect(one.rebuilt() + two.rebuilt()).toBe(1);

    const snap = await store.snapshot();
    expect(snap.queue.map((q) => [q.id, q.status, q.excludedVetIds])).toEqual([
      ["a", "queued", [7]],
      ["b", "queued", []],
    ]);
    expect(await store.getConsultation("c")).toMatchObject({
      status: "active",
      vetId: 9,
      channelSid: "CH1",
      acceptedAt: T0 + 6,
    });
    expect(await store.getVet(9)).toMatchObject({ connections: 0, activeConsultationIds: ["c"] });
    expect(await store.getVet(10)).toMatchObject({
      wrapupUntil: T0 + 5_000 + TEST_ROUTING.wrapupMs,
      wrapupConsultationId: "d",
    });
    expect(await store.getVet(8)).toMatchObject({ connections: 1, status: "available" });
    expect(await store.findOpenByUser(1, 1)).toMatchObject({ id: "a", profile: { user: { id: 1 } } });
    // Routing attributes come back as recorded (PROTOCOL §4): species, language, priority class.
    expect(await store.getConsultation("b")).toMatchObject({ species: "cat", language: "es", priority: "emergency" });
    expect(await store.getConsultation("a")).toMatchObject({ species: null, language: null, priority: "normal" });
  });

  it("restores a consultation handed back by its vet ahead of the queue, that vet excluded, its queue time from the hand-over", async () => {
    const clock = new ManualClock(T0 + 200_000);
    const ledger = new MemoryLedger();
    await ledger.create(live("early", 1, T0), "socket");
    await ledger.create(live("moved", 2, T0 + 10, { status: "active", vetId: 9, acceptedAt: T0 + 20 }), "rest");
    await ledger.transition(
      "moved",
      "queued",
      T0 + 100_000,
      {},
      { reason: "vet_left", from_vet_id: 9, cause: "vet_left" },
    );
    const store = new MemoryRoutingStore();
    expect(await rebuilder(store, ledger, clock, "n1").r.check()).toBe("changed");
    expect((await store.snapshot()).queue.map((q) => q.id)).toEqual(["moved", "early"]);
    expect(await store.getConsultation("moved")).toMatchObject({
      status: "queued",
      transferred: true,
      excludedVetIds: [9],
      queueDeadline: T0 + 100_000 + TEST_ROUTING.queueTimeoutMs,
    });
  });

  it("licensing: a waiting treatment request with advice_fallback gets its deadline back; one a vet already took (handed back) does not", async () => {
    const clock = new ManualClock(T0 + 200_000);
    const ledger = new MemoryLedger();
    const ask = { care: "treatment" as const, region: "US-CA", adviceFallback: true };
    await ledger.create(live("waiting", 1, T0, ask), "socket");
    await ledger.create(live("moved", 2, T0 + 10, { ...ask, status: "active", vetId: 9, acceptedAt: T0 + 20 }), "rest");
    await ledger.transition(
      "moved",
      "queued",
      T0 + 100_000,
      {},
      { reason: "vet_left", from_vet_id: 9, cause: "vet_left" },
    );
    const store = new MemoryRoutingStore();
    const routing = { ...TEST_ROUTING, licensing: true, licenseWaitMs: 120_000 };
    const r = new Rebuilder({
      store,
      ledger,
      directory: fakeDirectory,
      clock,
      logger: createLogger("silent"),
      nodeId: "n1",
      routing,
    });
    expect(await r.check()).toBe("changed");
    expect(await store.getConsultation("waiting")).toMatchObject({ care: "treatment", careDeadline: T0 + 120_000 });
    expect(await store.getConsultation("moved")).toMatchObject({
      care: "treatment",
      careDeadline: null,
      transferred: true,
    });
  });

  it("re-registers a vet with the skills as stored now, not a cached copy", async () => {
    const store = new MemoryRoutingStore();
    const stale = { species: ["dog"], languages: ["en"], maxChats: null, version: 1 };
    const stored = { species: ["cat"], languages: ["es"], maxChats: 2, version: 2 };
    // A cache that still holds the vet as it was before a PATCH on another node.
    const directory: Directory = {
      ...fakeDirectory,
      vet: async (vetId, opts) => ({ ...(await fakeDirectory.vet(vetId))!, skills: opts?.fresh ? stored : stale }),
    };
    const r = new Rebuilder({
      store,
      ledger: new MemoryLedger(),
      directory,
      clock: new ManualClock(T0),
      logger: createLogger("silent"),
      nodeId: "n1",
      routing: TEST_ROUTING,
      localConnections: () => ({ vets: [{ vetId: 8, connId: "v8" }], users: [] }),
    });
    expect(await r.check()).toBe("changed");
    expect((await store.getVet(8))?.skills).toEqual(stored);
  });

  it("a skills change that reached the new live state before the re-registration is not undone by the older read", async () => {
    const store = new MemoryRoutingStore();
    const read = { species: ["dog"], languages: ["en"], maxChats: null, version: 3 };
    const patched = { species: ["cat"], languages: ["es"], maxChats: 2, version: 4 };
    // The rebuild read the vet (version 3); a PATCH on another node recorded version 4 and
    // told the store before this node re-registered the vet's socket.
    const directory: Directory = {
      ...fakeDirectory,
      vet: async (vetId) => {
        await store.setVetSkills(vetId, patched);
        return { ...(await fakeDirectory.vet(vetId))!, skills: read };
      },
    };
    const r = new Rebuilder({
      store,
      ledger: new MemoryLedger(),
      directory,
      clock: new ManualClock(T0),
      logger: createLogger("silent"),
      nodeId: "n1",
      routing: TEST_ROUTING,
      localConnections: () => ({ vets: [{ vetId: 8, connId: "v8" }], users: [] }),
    });
    expect(await r.check()).toBe("changed");
    expect(await store.getVet(8)).toMatchObject({ connections: 1, skills: patched });
  });

  it("a rebuild that failed (database away) is tried again at the next check, not after the lock's TTL", async () => {
    const clock = new ManualClock(T0);
    const ledger = new MemoryLedger();
    await ledger.create(live("a", 1, T0), "socket");
    let down = true;
    const flaky = Object.assign(Object.create(ledger) as MemoryLedger, {
      openConsultations: () => (down ? Promise.reject(new Error("connect ECONNREFUSED")) : ledger.openConsultations()),
    });
    const store = new MemoryRoutingStore();
    const { r, rebuilt } = rebuilder(store, flaky, clock, "n1");
    const other = rebuilder(store, flaky, clock, "n2");
    await expect(r.check()).rejects.toThrow("ECONNREFUSED");
    // The lock is still this node's: another node waits, this one retries at once.
    expect(await other.r.check()).toBe("wait");
    down = false;
    expect(await r.check()).toBe("changed");
    expect(rebuilt()).toBe(1);
    expect(await store.getConsultation("a")).toMatchObject({ status: "queued" });
    expect(await other.r.check()).toBe("changed");
  });

  it("Redis lost again during the rebuild: no marker is set on the half-built state, the next check rebuilds it all", async () => {
    const clock = new ManualClock(T0);
    const ledger = new MemoryLedger();
    await ledger.create(live("a", 1, T0), "socket");
    // The store as Redis: replaced by an empty one while the rebuild reads the ledger.
    let current = new MemoryRoutingStore();
    const redis = new Proxy({} as MemoryRoutingStore, {
      get: (_, k: keyof MemoryRoutingStore) => (current[k] as (...a: unknown[]) => unknown).bind(current),
    });
    let restarts = 1;
    const restarting = Object.assign(Object.create(ledger) as MemoryLedger, {
      openConsultations: async () => {
        const open = await ledger.openConsultations();
        if (restarts-- > 0) current = new MemoryRoutingStore();
        return open;
      },
    });
    const { r, rebuilt } = rebuilder(redis, restarting, clock, "n1");
    expect(await r.check()).toBe("wait");
    expect(await current.liveEpoch()).toBeNull();
    expect(await r.check()).toBe("changed");
    expect(rebuilt()).toBe(1);
    expect(await current.getConsultation("a")).toMatchObject({ status: "queued" });
  });

  it("a user with two open (a retry queued one while the other was lost): the newest is restored, the other closed as duplicate", async () => {
    const clock = new ManualClock(T0 + 10_000);
    const ledger = new MemoryLedger();
    await ledger.create(live("lost", 1, T0 + 1), "socket");
    await ledger.create(live("retry", 1, T0 + 2), "socket");
    const store = new MemoryRoutingStore();
    // The retry reached the new (empty) Redis before the rebuild.
    await store.enqueue(live("retry", 1, T0 + 2));
    const { r } = rebuilder(store, ledger, clock, "n1");
    expect(await r.check()).toBe("changed");
    expect(await store.findOpenByUser(1, 1)).toMatchObject({ id: "retry" });
    expect(await store.getConsultation("lost")).toBeNull();
    expect(ledger.rows.get("lost")).toMatchObject({ status: "cancelled", endReason: "duplicate" });
    expect(ledger.rows.get("retry")?.status).toBe("queued");
  });

  it("waits while another node holds the rebuild lock", async () => {
    const clock = new ManualClock(T0);
    const store = new MemoryRoutingStore();
    expect(await store.claimRebuild("someone", 30_000)).toBe(true);
    const { r, rebuilt } = rebuilder(store, new MemoryLedger(), clock, "n1");
    expect(await r.check()).toBe("wait");
    await store.setLiveEpoch("e1", "someone");
    expect(await r.check()).toBe("changed");
    expect(rebuilt()).toBe(0);
  });
});
