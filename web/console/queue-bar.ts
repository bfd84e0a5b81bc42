/** The queue chip in the top bar: "N waiting · M vets available", polled from `GET /vet/v1/queue` (no `/vet` event carries it). */
import { api } from "../shared/api.js";
import { byId, fill, h } from "../shared/dom.js";
import { loadSession } from "./session.js";

const POLL_MS = 5_000;

export class QueueBar {
  private timer: ReturnType<typeof setInterval> | null = null;
  private readonly el = byId("queue");

  /** Reads now and every 5 s while the tab is visible (a failed read keeps the last figures). */
  start(): void {
    void this.read();
    if (this.timer) clearInterval(this.timer);
    this.timer = setInterval(() => void this.read(), POLL_MS);
  }

  private async read(): Promise<void> {
    const s = loadSession();
    if (!s || document.hidden) return;
    try {
      const q = await api<{ queue_length: number; vets_available: number }>("GET", "/vet/v1/queue", { bearer: s.token });
      this.el.dataset.value = String(q.queue_length);
      fill(this.el, h("strong", {}, String(q.queue_length)), " waiting", h("span", { class: "muted" }, ` · ${q.vets_available} vet${q.vets_available === 1 ? "" : "s"} available`));
    } catch {
      /* stale until the next poll */
    }
  }
}
