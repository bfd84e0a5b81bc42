import type { Clock } from "./clock.js";

/**
 * One read shared by its callers: a caller while it runs, or within `maxAgeMs` of its start,
 * gets its result instead of reading again. A failed read is not kept: the next caller reads.
 * For reads that grow with the state and are polled by many clients.
 */
export function sharedRead<T>(read: () => Promise<T>, maxAgeMs: number, clock: Clock): () => Promise<T> {
  let last: { at: number; result: Promise<T>; settled: boolean } | null = null;
  return () => {
    const now = clock.now();
    // A clock set back counts as expired, never as fresher.
    if (last && (!last.settled || (now >= last.at && now - last.at < maxAgeMs))) return last.result;
    const entry = { at: now, result: read(), settled: false };
    last = entry;
    entry.result.then(
      () => {
        entry.settled = true;
      },
      () => {
        entry.settled = true;
        if (last === entry) last = null;
      },
    );
    return entry.result;
  };
}
