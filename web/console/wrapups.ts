/** Wrap-up panels after a consultation ends: the feedback form and the wrap-up countdown. */
import type { VetConsultationPayload } from "../../src/client/index.js";
import type { ChatPanel } from "../shared/chat.js";
import { h } from "../shared/dom.js";
import type { ConsoleContext } from "./context.js";
import { FALLBACK_OUTCOMES } from "./outcomes.js";
import { wrapupPanel } from "./work.js";

export class Wrapups {
  private readonly panels = new Map<string, { el: HTMLElement; tick(): void }>();

  /** `changed` runs when a panel comes or goes (the column's empty state depends on it). */
  constructor(
    private readonly ctx: ConsoleContext,
    private readonly root: HTMLElement,
    private readonly changed: () => void,
  ) {}

  get size(): number {
    return this.panels.size;
  }

  has(id: string): boolean {
    return this.panels.has(id);
  }

  /**
   * Opens the wrap-up of an ended consultation and puts the cursor in the feedback form;
   * `chat` (offline mode) stays readable under it, folded, for writing the feedback.
   */
  open(c: VetConsultationPayload, endedText: string, chat: ChatPanel | null = null): void {
    if (this.panels.has(c.consultation_id)) return;
    const outcomes = this.ctx.config.outcomes?.length ? this.ctx.config.outcomes : FALLBACK_OUTCOMES;
    const w = wrapupPanel(c, endedText, Date.now() + this.ctx.config.wrapup_ms, outcomes, {
      submit: async (id, rec, why, outcome) => {
        const client = this.ctx.client();
        if (!client) throw new Error("not connected");
        await client.sendFeedback(id, rec, why, outcome);
      },
      dismiss: (id) => this.remove(id),
    });
    if (chat && chat.size > 0) {
      chat.close("The consultation has ended.");
      w.el.append(
        h(
          "details",
          { class: "transcript" },
          h("summary", {}, `The conversation (${chat.size} message${chat.size === 1 ? "" : "s"})`),
          chat.el,
        ),
      );
    }
    this.panels.set(c.consultation_id, w);
    this.root.prepend(w.el);
    this.changed();
    w.el.querySelector("select")?.focus();
  }

  /** A new consultation became active: wrap-ups whose feedback was sent (and one of the same id) leave the view. */
  clearFinished(activeId: string): void {
    for (const [id, w] of this.panels) if (id === activeId || w.el.classList.contains("sent")) this.remove(id);
  }

  tick(): void {
    for (const w of this.panels.values()) w.tick();
  }

  private remove(id: string): void {
    this.panels.get(id)?.el.remove();
    this.panels.delete(id);
    this.changed();
  }
}
