/**
 * A bounded tarpit (PROTOCOL §7): a refusal the caller decides to slow down is answered only
 * after a delay, so a client that waits for its answers sends at most its concurrency per
 * delay instead of as fast as the node can refuse it. At most `maxHeld` requests are held at
 * once; beyond that (or when off, or closed) the answer goes out at once, which costs the
 * node no more than a refusal did before the tarpit existed.
 */
import type { EventEmitter } from "node:events";

/** The timer functions the tarpit uses; tests pass fakes they advance by hand. */
export interface TarpitTimers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

const realTimers: TarpitTimers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

/** Settings and observers of {@link createTarpit}. */
export interface TarpitOptions {
  /** How long a held request waits for its answer; 0 turns the tarpit off. */
  delayMs: number;
  /** Most requests held at once on this node. */
  maxHeld: number;
  timers?: TarpitTimers;
  /** Called with the new count whenever a request is held or let go (a metrics gauge). */
  onHeld?: (held: number) => void;
  /** Called when a request is answered at once because `maxHeld` are already held. */
  onFull?: () => void;
}

/** One node's tarpit. */
export interface Tarpit {
  /**
   * Runs `answer` after the delay, or at once when the tarpit is off, full or closed. `res`
   * is the request's response: its `close` before the delay (the client left) frees the slot
   * and cancels the answer. Returns true when the request was held.
   */
  hold(res: Pick<EventEmitter, "once" | "off">, answer: () => void): boolean;
  /** Requests held now. */
  readonly held: number;
  /** Answers every held request now; later ones are answered at once (shutdown and drain). */
  close(): void;
}

interface Held {
  timer: unknown;
  /** Frees the slot and cancels the timer; false when already freed. */
  free(): boolean;
  answer(): void;
}

/** Builds a tarpit; it owns its held requests and their timers. */
export function createTarpit(opts: TarpitOptions): Tarpit {
  const timers = opts.timers ?? realTimers;
  const held = new Set<Held>();
  let closed = false;

  const hold: Tarpit["hold"] = (res, answer) => {
    if (opts.delayMs <= 0 || closed) {
      answer();
      return false;
    }
    if (held.size >= opts.maxHeld) {
      opts.onFull?.();
      answer();
      return false;
    }
    const onClose = () => void entry.free();
    const entry: Held = {
      timer: undefined,
      free() {
        if (!held.delete(entry)) return false;
        timers.clearTimeout(entry.timer);
        res.off("close", onClose);
        opts.onHeld?.(held.size);
        return true;
      },
      answer,
    };
    held.add(entry);
    res.once("close", onClose);
    entry.timer = timers.setTimeout(() => {
      if (entry.free()) answer();
    }, opts.delayMs);
    opts.onHeld?.(held.size);
    return true;
  };

  return {
    hold,
    get held() {
      return held.size;
    },
    close() {
      closed = true;
      for (const entry of [...held]) if (entry.free()) entry.answer();
    },
  };
}
