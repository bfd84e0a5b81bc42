/** The tarpit on its own (PROTOCOL §7): delay, bound, timers, disconnects and shutdown, on a hand-moved clock. */
import { EventEmitter } from "node:events";
import { describe, expect, it } from "vitest";
import { createTarpit, type TarpitTimers } from "../../src/http/tarpit.js";

/** Timers that fire only when the test moves time; `pending` counts the live ones. */
function manualTimers(): TarpitTimers & { advance(ms: number): void; readonly pending: number } {
  let now = 0;
  let next = 1;
  const due = new Map<number, { at: number; fn: () => void }>();
  return {
    setTimeout(fn, ms) {
      const id = next++;
      due.set(id, { at: now + ms, fn });
      return id;
    },
    clearTimeout(handle) {
      due.delete(handle as number);
    },
    advance(ms) {
      now += ms;
      for (const [id, t] of [...due].sort((a, b) => a[1].at - b[1].at)) {
        if (t.at > now) break;
        due.delete(id);
        t.fn();
      }
    },
    get pending() {
      return due.size;
    },
  };
}

/** A held request: its response (only `close` matters to the tarpit) and how often it was answered. */
function request() {
  const res = new EventEmitter();
  const r = { res, answers: 0, answer: () => r.answers++ };
  return r;
}

describe("tarpit", () => {
  it("answers a held request after the delay, not before, and leaves no timer behind", () => {
    const timers = manualTimers();
    const gauge: number[] = [];
    const tarpit = createTarpit({ delayMs: 1_000, maxHeld: 10, timers, onHeld: (n) => gauge.push(n) });
    const r = request();
    expect(tarpit.hold(r.res, r.answer)).toBe(true);
    expect(tarpit.held).toBe(1);
    timers.advance(999);
    expect(r.answers).toBe(0);
    timers.advance(1);
    expect(r.answers).toBe(1);
    expect(tarpit.held).toBe(0);
    expect(timers.pending).toBe(0);
    // The response's own close after the answer changes nothing.
    r.res.emit("close");
    expect(r.answers).toBe(1);
    expect(r.res.listenerCount("close")).toBe(0);
    expect(gauge).toEqual([1, 0]);
  });

  it("holds at most maxHeld; beyond it answers at once and says so", () => {
    const timers = manualTimers();
    let full = 0;
    const tarpit = createTarpit({ delayMs: 1_000, maxHeld: 3, timers, onFull: () => full++ });
    const held = [request(), request(), request()];
    for (const r of held) expect(tarpit.hold(r.res, r.answer)).toBe(true);
    const over = [request(), request()];
    for (const r of over) expect(tarpit.hold(r.res, r.answer)).toBe(false);
    expect(over.map((r) => r.answers)).toEqual([1, 1]);
    expect(held.map((r) => r.answers)).toEqual([0, 0, 0]);
    expect(full).toBe(2);
    expect(tarpit.held).toBe(3);
    expect(timers.pending).toBe(3);
    timers.advance(1_000);
    expect(held.map((r) => r.answers)).toEqual([1, 1, 1]);
    // Slots free again once answered.
    const later = request();
    expect(tarpit.hold(later.res, later.answer)).toBe(true);
  });

  it("frees the slot and cancels the answer and its timer when the client leaves", () => {
    const timers = manualTimers();
    const tarpit = createTarpit({ delayMs: 1_000, maxHeld: 1, timers });
    const gone = request();
    tarpit.hold(gone.res, gone.answer);
    gone.res.emit("close");
    expect(tarpit.held).toBe(0);
    expect(timers.pending).toBe(0);
    const next = request();
    expect(tarpit.hold(next.res, next.answer)).toBe(true);
    timers.advance(1_000);
    expect(gone.answers).toBe(0);
    expect(next.answers).toBe(1);
  });

  it("on close answers every held request at once, clears their timers, and holds no more", () => {
    const timers = manualTimers();
    const tarpit = createTarpit({ delayMs: 1_000, maxHeld: 10, timers });
    const held = [request(), request()];
    for (const r of held) tarpit.hold(r.res, r.answer);
    tarpit.close();
    expect(held.map((r) => r.answers)).toEqual([1, 1]);
    expect(tarpit.held).toBe(0);
    expect(timers.pending).toBe(0);
    const after = request();
    expect(tarpit.hold(after.res, after.answer)).toBe(false);
    expect(after.answers).toBe(1);
    timers.advance(1_000);
    expect(held.map((r) => r.answers)).toEqual([1, 1]);
  });

  it("with a delay of 0 is off: every answer at once, no timer", () => {
    const timers = manualTimers();
    const tarpit = createTarpit({ delayMs: 0, maxHeld: 10, timers });
    const r = request();
    expect(tarpit.hold(r.res, r.answer)).toBe(false);
    expect(r.answers).toBe(1);
    expect(timers.pending).toBe(0);
    expect(r.res.listenerCount("close")).toBe(0);
  });
});
