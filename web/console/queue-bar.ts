/**
 * The queue chip in the top bar: "N waiting · longest m:ss · M vets free", polled from
 * `GET /vet/v1/queue` (no `/vet` event carries it). The longest wait keeps counting between polls.
 */
import { api } from "../shared/api.js";
import { byId, fill, h } from "../shared/dom.js";
import { clock } from "../shared/format.js";
import { loadSession } from "./session.js";

const POLL_MS = 5_000;
// After the last change: past the second for which the gateway shares one queue read among
// its consoles, so the read after a change is a read made after it.
const POKE_MS = 1_100;
/** A wait beyond this is shown in the warning colour. */
const LONG_WAIT_MS = 5 * 60_000;

interface VetQueue {
  queue_length: number;
  vets_available: number;
  oldest_wait_s: number | null;
}

export class QueueBar {
  private timer: ReturnType<typeof setInterval> | null = null;
  private readonly el = byId("queue");
  private last: { q: VetQueue; at: number } | null = null;
  private poked: ReturnType<typeof setTimeout> | null = null;

  /** Reads now and every 5 s while the tab is visible (a failed read keeps the last figures). */
  start(): void {
    void this.read();
    if (this.timer) clearInterval(this.timer);
    this.timer = setInterval(() => void this.read(), POLL_MS);
  }

  /**
   * Reads again soon: offers came or went, so the queue changed. The read waits for
   * POKE_MS after the last change, so changes in a row make one read, made after them all.
   */
  poke(): void {
    if (this.poked) clearTimeout(this.poked);
    this.poked = setTimeout(() => {
      this.poked = null;
      void this.read();
    }, POKE_MS);
  }

  /** Redraws, the longest wait moved on by the time since the last read. */
  render(): void {
    if (!this.last) return;
    const { q, at } = this.last;
    this.el.dataset.value = String(q.queue_length);
    const waited = q.oldest_wait_s === null ? null : q.oldest_wait_s * 1000 + (Date.now() - at);
    fill(
      this.el,
      h("strong", {}, String(q.queue_length)),
      " waiting",
      waited === null
        ? null
        : h("span", { class: waited >= LONG_WAIT_MS ? "wait long" : "wait" }, ` · longest ${clock(waited)}`),
      h("span", { class: "muted" }, ` · ${q.vets_available} vet${q.vets_available === 1 ? "" : "s"} free`),
    );
    this.el.title = `${q.queue_length} request${q.queue_length === 1 ? "" : "s"} waiting for a vet${waited === null ? "" : `, the longest for ${clock(waited)}`}; ${q.vets_available} vet${q.vets_available === 1 ? "" : "s"} free to take one`;
  }

  private async read(): Promise<void> {
    const s = loadSession();
    if (!s || document.hidden) return;
    try {
      this.last = { q: await api<VetQueue>("GET", "/vet/v1/queue", { bearer: s.token }), at: Date.now() };
      this.render();
    } catch {
      /* stale until the next poll */
    }
  }
}
