import { describe, expect, it } from "vitest";
import { StorageUnavailableError } from "../../src/domain/errors.js";
import { backoffMs, LedgerWriter, type LedgerWriterOptions, type Sleep } from "../../src/domain/ledger-writer.js";
import type { Ledger } from "../../src/domain/ports.js";
import { createLogger } from "../../src/lib/logger.js";
import { MemoryLedger } from "../support/engine-fakes.js";

/** A promise the test resolves by hand: writes land exactly when the test says. */
function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

/** Resolves once every pending microtask and callback of the current turn has run. */
const settled = () => new Promise<void>((resolve) => setImmediate(resolve));

/** A backoff wait that returns at once and remembers what it was asked to wait. */
function instantSleep(): { sleep: Sleep; waits: number[] } {
  const waits: number[] = [];
  return { waits, sleep: (ms) => (waits.push(ms), Promise.resolve()) };
}

/** A backoff wait the test ends by hand (or an abort ends early). */
function heldSleep(): { sleep: Sleep; waits: number[]; release: () => void } {
  const waits: number[] = [];
  let pending: Array<() => void> = [];
  const sleep: Sleep = (ms, signal) =>
    new Promise<void>((resolve) => {
      waits.push(ms);
      pending.push(resolve);
      signal.addEventListener("abort", () => resolve(), { once: true });
    });
  return {
    sleep,
    waits,
    release: () => {
      const r = pending;
      pending = [];
      r.forEach((f) => f());
    },
  };
}

/** A write that fails `n` times ("database away"), then logs its name. */
function flaky(n: number, log: string[], name: string) {
  let left = n;
  return () => {
    if (left-- > 0) return Promise.reject(new Error("connect ECONNREFUSED"));
    log.push(name);
    return Promise.resolve();
  };
}

const logger = createLogger("silent");

function writer(opts: Partial<LedgerWriterOptions> = {}) {
  const counts = { retries: 0, failures: [] as string[] };
  const w = new LedgerWriter(new MemoryLedger(), {
    logger,
    sleep: instantSleep().sleep,
    observer: { retry: () => counts.retries++, failure: (r) => counts.failures.push(r) },
    ...opts,
  });
  return { w, counts };
}

/** The ledger writer: ordered writes per consultation, retries with backoff, record-first errors. */
describe("LedgerWriter", () => {
  it("runs the writes of one consultation in order, each after the previous landed", async () => {
    const { w } = writer();
    const log: string[] = [];
    const first = gate();
    w.writeBehind("c1", async () => {
      await first.promise;
      log.push("first");
    });
    w.writeBehind("c1", () => {
      log.push("second");
      return Promise.resolve();
    });
    await settled();
    expect(log).toEqual([]);
    first.open();
    await w.settle("c1");
    expect(log).toEqual(["first", "second"]);
  });

  it("settle waits for every write queued so far for that consultation, and only that one", async () => {
    const { w } = writer();
    const c1 = gate();
    const c2 = gate();
    let c1Done = false;
    w.writeBehind("c1", async () => {
      await c1.promise;
      c1Done = true;
    });
    w.writeBehind("c2", () => c2.promise); // another consultation, never released before the check
    let settledC1 = false;
    const barrier = w.settle("c1").then(() => (settledC1 = true));
    await settled();
    expect(settledC1).toBe(false);
    c1.open();
    await barrier;
    expect(c1Done).toBe(true);
    c2.open();
    await w.flush();
  });

  it("retries a write behind with backoff (50 ms doubling to 5 s) until stored, counting each retry", async () => {
    const { sleep, waits } = instantSleep();
    const { w, counts } = writer({ sleep });
    const log: string[] = [];
    w.writeBehind("c1", flaky(9, log, "offer"));
    await w.flush();
    expect(log).toEqual(["offer"]);
    expect(waits).toEqual([50, 100, 200, 400, 800, 1600, 3200, 5000, 5000]);
    expect(counts).toEqual({ retries: 9, failures: [] });
    expect(backoffMs(100)).toBe(5000);
  });

  it("keeps the order per consultation while retrying: a later write waits for the failing one", async () => {
    const held = heldSleep();
    const { w } = writer({ sleep: held.sleep });
    const log: string[] = [];
    w.writeBehind("c1", flaky(2, log, "offered"));
    w.writeBehind("c1", flaky(0, log, "declined"));
    w.writeBehind("c2", flaky(0, log, "other"));
    await settled();
    expect(log).toEqual(["other"]); // another consultation is not held up
    held.release();
    await settled();
    expect(log).toEqual(["other"]);
    held.release();
    await w.flush();
    expect(log).toEqual(["other", "offered", "declined"]);
  });

  it("gives up on an error that is not 'database away': logged and counted, the next write goes on", async () => {
    const errors: unknown[] = [];
    const spy = {
      ...logger,
      error: (o: unknown) => errors.push(o),
      warn: () => {},
      info: () => {},
    } as unknown as typeof logger;
    const { w, counts } = writer({ logger: spy, isUnavailable: (e) => (e as Error).message.includes("ECONN") });
    const log: string[] = [];
    w.writeBehind("c1", () => Promise.reject(new Error("violates foreign key constraint")));
    w.writeBehind("c1", flaky(1, log, "next"));
    await w.flush();
    expect(log).toEqual(["next"]);
    expect(counts).toEqual({ retries: 1, failures: ["rejected"] });
    expect(errors[0]).toMatchObject({ consultationId: "c1" });
  });

  it("writeThrough resolves once its write landed", async () => {
    const { w } = writer();
    const created = gate();
    let landed = false;
    const done = w.writeThrough("c2", async (l: Ledger) => {
      await created.promise;
      await l.note("c2", 0, {});
      landed = true;
    });
    await settled();
    expect(landed).toBe(false);
    created.open();
    await done;
    expect(landed).toBe(true);
  });

  it("writeThrough fails with StorageUnavailableError at once, and is not retried", async () => {
    const { w, counts } = writer();
    const log: string[] = [];
    const err = await w.writeThrough("c1", flaky(1, log, "ended")).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StorageUnavailableError);
    expect(err).toMatchObject({ retryAfterS: 5 });
    await w.flush();
    expect(log).toEqual([]);
    expect(counts.retries).toBe(0);
  });

  it("writeThrough passes other errors on as they are", async () => {
    const { w } = writer({ isUnavailable: () => false });
    await expect(w.writeThrough("c1", () => Promise.reject(new Error("bug")))).rejects.toThrow("bug");
  });

  it("a writeThrough behind a failing write behind wakes it, and fails when that try fails too", async () => {
    const held = heldSleep();
    const { w } = writer({ sleep: held.sleep });
    const log: string[] = [];
    w.writeBehind("c1", flaky(2, log, "offered"));
    await settled(); // first try failed, waiting 50 ms
    expect(held.waits).toEqual([50]);
    await expect(w.writeThrough("c1", flaky(0, log, "active"))).rejects.toBeInstanceOf(StorageUnavailableError);
    // The wake-up made the second try at once; it failed, so the caller got 503.
    expect(held.waits).toEqual([50, 100]);
    held.release();
    await w.flush();
    expect(log).toEqual(["offered"]);
  });

  it("a writeThrough behind a failing write succeeds once the database is back", async () => {
    const held = heldSleep();
    const { w } = writer({ sleep: held.sleep });
    const log: string[] = [];
    w.writeBehind("c1", flaky(1, log, "offered"));
    await settled();
    await w.writeThrough("c1", flaky(0, log, "active")); // woke the retry, which now works
    expect(log).toEqual(["offered", "active"]);
  });

  it("flush(limit) stops waiting after the limit and logs what is left; close stops retrying and counts it", async () => {
    const errors: unknown[] = [];
    const spy = {
      ...logger,
      error: (o: unknown) => errors.push(o),
      warn: () => {},
      info: () => {},
    } as unknown as typeof logger;
    // Backoff waits are held; the flush limit (1000 ms) passes at once.
    const held = heldSleep();
    const sleep: Sleep = (ms, signal) => (ms === 1000 ? Promise.resolve() : held.sleep(ms, signal));
    const { w, counts } = writer({ logger: spy, sleep });
    w.writeBehind("c1", () => Promise.reject(new Error("ECONNREFUSED")));
    w.writeBehind("c1", () => Promise.resolve());
    await settled();
    await w.flush(1000);
    expect(errors).toEqual([expect.objectContaining({ consultations: 1, writes: 2, ids: ["c1"] })]);
    w.close();
    expect(counts.failures).toEqual(["shutdown", "shutdown"]);
    await w.flush();
    await expect(w.writeThrough("c2", () => Promise.resolve())).rejects.toBeInstanceOf(StorageUnavailableError);
  });
});
