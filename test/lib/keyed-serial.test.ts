import { describe, expect, it } from "vitest";
import { KeyedSerial } from "../../src/lib/keyed-serial.js";

/** A promise and its resolver, so the test decides when each job finishes. */
function gate() {
  let open!: () => void;
  const opened = new Promise<void>((r) => (open = r));
  return { open, opened };
}

describe("KeyedSerial", () => {
  it("runs one job at a time per key, in order, and different keys side by side", async () => {
    const serial = new KeyedSerial();
    const log: string[] = [];
    const a1 = gate();
    const first = serial.run("a", async () => {
      log.push("a1 start");
      await a1.opened;
      log.push("a1 end");
      return 1;
    });
    const second = serial.run("a", () => {
      log.push("a2 start");
      return Promise.resolve(2);
    });
    const other = serial.run("b", () => {
      log.push("b start");
      return Promise.resolve(3);
    });
    await other;
    expect(log).toEqual(["a1 start", "b start"]);
    a1.open();
    expect(await Promise.all([first, second, other])).toEqual([1, 2, 3]);
    expect(log).toEqual(["a1 start", "b start", "a1 end", "a2 start"]);
    await Promise.resolve();
    expect(serial.size).toBe(0);
  });

  it("gives each caller its own error and keeps going after a failure", async () => {
    const serial = new KeyedSerial();
    const failed = serial.run("a", () => Promise.reject(new Error("boom")));
    const next = serial.run("a", () => Promise.resolve("ok"));
    await expect(failed).rejects.toThrow("boom");
    await expect(next).resolves.toBe("ok");
  });
});
