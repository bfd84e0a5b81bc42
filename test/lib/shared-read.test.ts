import { describe, expect, it } from "vitest";
import { ManualClock } from "../../src/lib/clock.js";
import { sharedRead } from "../../src/lib/shared-read.js";

describe("sharedRead", () => {
  it("callers while a read runs, and within maxAgeMs of its start, share it; later ones read again", async () => {
    const clock = new ManualClock();
    let reads = 0;
    const read = sharedRead(() => Promise.resolve(++reads), 1000, clock);
    expect(await Promise.all([read(), read()])).toEqual([1, 1]);
    clock.advance(999);
    expect(await read()).toBe(1);
    clock.advance(1);
    expect(await read()).toBe(2);
    expect(reads).toBe(2);
  });

  it("a read still running past maxAgeMs is shared, not started again beside it", async () => {
    const clock = new ManualClock();
    let reads = 0;
    let finish: (n: number) => void = () => undefined;
    const read = sharedRead(() => new Promise<number>((resolve) => ((finish = resolve), ++reads)), 1000, clock);
    const first = read();
    clock.advance(5000);
    const second = read();
    finish(7);
    expect(await Promise.all([first, second])).toEqual([7, 7]);
    expect(reads).toBe(1);
  });

  it("a clock set back does not keep an old result: it reads again", async () => {
    const clock = new ManualClock();
    let reads = 0;
    const read = sharedRead(() => Promise.resolve(++reads), 1000, clock);
    expect(await read()).toBe(1);
    clock.advance(-60_000);
    expect(await read()).toBe(2);
  });

  it("a failed read is not kept: the next caller reads again at once", async () => {
    const clock = new ManualClock();
    let reads = 0;
    const read = sharedRead(
      () => (++reads === 1 ? Promise.reject(new Error("away")) : Promise.resolve(reads)),
      1000,
      clock,
    );
    await expect(read()).rejects.toThrow("away");
    expect(await read()).toBe(2);
  });
});
