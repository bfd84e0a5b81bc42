import { beforeEach, describe, expect, it } from "vitest";
import { StorageUnavailableError } from "../../../src/domain/errors.js";
import type { NewLiveConsultation } from "../../../src/domain/routing-store.js";
import { MemoryRoutingStore } from "../../../src/routing-store/memory/store.js";
import { FlakyLedger, makeEngine, MemoryLedger } from "../../support/engine-fakes.js";
import { engineHelpers } from "../engine-helpers.js";

/** A memory store whose next `failEnqueues` enqueues (or `failReverts` reverts) fail the way Redis going away does. */
class FlakyStore extends MemoryRoutingStore {
  failEnqueues = 0;
  failReverts = 0;
  override revertAccept(...a: Parameters<MemoryRoutingStore["revertAccept"]>) {
    if (this.failReverts > 0) {
      this.failReverts--;
      return Promise.reject(new Error("connect ECONNREFUSED 127.0.0.1:6379"));
    }
    return super.revertAccept(...a);
  }
  override enqueue(c: NewLiveConsultation, max?: number) {
    if (this.failEnqueues > 0) {
      this.failEnqueues--;
      return Promise.reject(new Error("connect ECONNREFUSED 127.0.0.1:6379"));
    }
    return super.enqueue(c, max);
  }
}

/**
 * Gaps between the database and the live state found by bench/chaos.ts: a request recorded
 * but never queued (the store away just then), and commands on a consultation the live state
 * lacks (Redis came back empty, the rebuild not done yet).
 */
describe("live state behind the database", () => {
  let store: FlakyStore;
  let ledger: MemoryLedger;
  let t: ReturnType<typeof makeEngine>;
  let wake: Array<() => void>;
  const { online, request, offersTo } = engineHelpers(() => t);

  beforeEach(() => {
    store = new FlakyStore();
    ledger = new MemoryLedger();
    wake = [];
    // Retry waits end only when the test says so.
    t = makeEngine(store, { ledger, ledgerWriterSleep: () => new Promise<void>((r) => wake.push(r)) });
  });

  const retryNow = async () => {
    for (const w of wake.splice(0)) w();
    await new Promise((r) => setImmediate(r));
    await t.engine.flush();
  };

  it("a recorded request whose enqueue failed is enqueued again behind the 503, and offered", async () => {
    await online(1);
    store.failEnqueues = 1;
    await expect(request(1)).rejects.toThrow("ECONNREFUSED");
    const id = [...ledger.rows.keys()][0];
    expect(ledger.rows.get(id)?.status).toBe("queued");
    expect(await store.getConsultation(id)).toBeNull();
    await retryNow();
    expect(await store.getConsultation(id)).toMatchObject({ status: "offered" });
    expect(offersTo(1).map((o: { consultation_id: string }) => o.consultation_id)).toEqual([id]);
    // The owner's retry gets the same consultation back.
    expect(await request(1)).toMatchObject({ consultation_id: id, status: "offered" });
  });

  it("the owner's retry queued another one first: the recorded one is closed as a duplicate", async () => {
    store.failEnqueues = 1;
    await expect(request(1)).rejects.toThrow("ECONNREFUSED");
    const first = [...ledger.rows.keys()][0];
    const second = await request(1);
    expect(second.consultation_id).not.toBe(first);
    await retryNow();
    expect(ledger.rows.get(first)).toMatchObject({ status: "cancelled", endReason: "duplicate" });
    expect(ledger.rows.get(second.consultation_id)?.status).toBe("queued");
    expect(await store.findOpenByUser(1, 1)).toMatchObject({ id: second.consultation_id });
  });

  it("an accept whose write and undo both failed is recorded by the vet's retry before the owner hears of it", async () => {
    const flaky = new FlakyLedger();
    t = makeEngine(store, { ledger: flaky });
    await online(1);
    const r = await request(1);
    flaky.failNext = 1;
    store.failReverts = 1;
    await expect(t.engine.accept(1, r.consultation_id)).rejects.toBeInstanceOf(StorageUnavailableError);
    // The store kept it active (the undo failed); the database does not have it.
    expect(await store.getConsultation(r.consultation_id)).toMatchObject({ status: "active", vetId: 1 });
    expect(flaky.rows.get(r.consultation_id)?.status).toBe("offered");
    expect(t.notifier.of("user:1:1", "consult:matched")).toEqual([]);
    await t.engine.accept(1, r.consultation_id);
    expect(flaky.rows.get(r.consultation_id)).toMatchObject({ status: "active", vetId: 1 });
    expect(t.notifier.of("user:1:1", "consult:matched")).toHaveLength(1);
  });

  it("a create that landed although the caller got 503 (timed out) is closed behind, not left open", async () => {
    class LateCreate extends MemoryLedger {
      once = true;
      override async create(...a: Parameters<MemoryLedger["create"]>) {
        await super.create(...a);
        if (this.once) {
          this.once = false;
          throw new Error("Query read timeout");
        }
      }
    }
    const late = new LateCreate();
    t = makeEngine(store, { ledger: late });
    await expect(request(1)).rejects.toBeInstanceOf(StorageUnavailableError);
    await t.engine.flush();
    const [id] = [...late.rows.keys()];
    expect(late.rows.get(id)).toMatchObject({ status: "cancelled", endReason: "not_recorded" });
    expect(await store.findOpenByUser(1, 1)).toBeNull();
    // The owner's retry is a new request, queued normally.
    expect(await request(1)).toMatchObject({ status: "queued" });
  });

  it("end, cancel and end by channel with no live state answer 503 while the database has it open, success once closed", async () => {
    await online(1);
    const r = await request(1);
    await t.engine.accept(1, r.consultation_id);
    await t.engine.flush();
    const sid = ledger.rows.get(r.consultation_id)!.channelSid!;
    // The live state lost it (Redis restarted empty, not rebuilt yet).
    const empty = new MemoryRoutingStore();
    t = makeEngine(empty, { ledger, clock: t.clock });
    await expect(t.engine.endByVet(1, r.consultation_id)).rejects.toBeInstanceOf(StorageUnavailableError);
    await expect(t.engine.endByUser(1, 1, r.consultation_id)).rejects.toBeInstanceOf(StorageUnavailableError);
    await expect(t.engine.cancel(1, 1, r.consultation_id)).rejects.toBeInstanceOf(StorageUnavailableError);
    await expect(t.engine.endByChannel(1, sid)).rejects.toBeInstanceOf(StorageUnavailableError);
    expect(t.notifier.events).toEqual([]);
    await ledger.transition(r.consultation_id, "ended", t.clock.now(), { endedBy: "vet" });
    await expect(t.engine.endByVet(1, r.consultation_id)).resolves.toBeUndefined();
    await expect(t.engine.endByUser(1, 1, r.consultation_id)).resolves.toBeUndefined();
    await expect(t.engine.endByChannel(1, sid)).resolves.toBeUndefined();
  });
});
