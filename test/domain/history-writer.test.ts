import { describe, expect, it } from "vitest";
import { HistoryWriter } from "../../src/domain/history-writer.js";
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

/** The history writer: ordered writes per consultation, and `settle` as an explicit barrier. */
describe("HistoryWriter", () => {
  const logger = createLogger("silent");

  it("runs the writes of one consultation in order, each after the previous landed", async () => {
    const writer = new HistoryWriter(new MemoryLedger(), logger);
    const log: string[] = [];
    const first = gate();
    writer.writeBehind("c1", async () => {
      await first.promise;
      log.push("first");
    });
    writer.writeBehind("c1", () => {
      log.push("second");
      return Promise.resolve();
    });
    await settled();
    expect(log).toEqual([]);
    first.open();
    await writer.settle("c1");
    expect(log).toEqual(["first", "second"]);
  });

  it("settle waits for every write queued so far for that consultation, and only that one", async () => {
    const writer = new HistoryWriter(new MemoryLedger(), logger);
    const c1 = gate();
    const c2 = gate();
    let c1Done = false;
    writer.writeBehind("c1", async () => {
      await c1.promise;
      c1Done = true;
    });
    writer.writeBehind("c2", () => c2.promise); // another consultation, never released before the check
    let settledC1 = false;
    const barrier = writer.settle("c1").then(() => (settledC1 = true));
    await settled();
    expect(settledC1).toBe(false);
    c1.open();
    await barrier;
    expect(c1Done).toBe(true);
    c2.open();
    await writer.flush();
  });

  it("settle resolves at once when nothing is pending, and after a failed write (logged, not thrown)", async () => {
    const errors: unknown[] = [];
    const spyLogger = { ...logger, error: (obj: unknown) => errors.push(obj) } as unknown as typeof logger;
    const writer = new HistoryWriter(new MemoryLedger(), spyLogger);
    await writer.settle("idle");
    writer.writeBehind("c1", () => Promise.reject(new Error("db down")));
    await expect(writer.settle("c1")).resolves.toBeUndefined();
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ consultationId: "c1" });
  });

  it("writeThrough resolves once its write landed", async () => {
    const ledger = new MemoryLedger();
    const writer = new HistoryWriter(ledger, logger);
    const created = gate();
    let landed = false;
    const done = writer.writeThrough("c2", async (l: Ledger) => {
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
});
