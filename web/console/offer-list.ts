/** The "Incoming requests" column: one card per held offer, accept and decline, revocations. */
import type { EventPayload, VetConsultationPayload, VetEvents } from "../../src/client/index.js";
import { reason } from "../shared/api.js";
import { byId, fill, h } from "../shared/dom.js";
import { personName } from "../shared/format.js";
import type { ConsoleContext } from "./context.js";
import { offerInsertIndex } from "./offer-order.js";
import { offerCard, tickCountdowns, type Offer } from "./offers.js";
import type { Availability } from "./presence.js";

export interface OfferListHooks {
  /** True when the consultation is already active here (a late re-sent offer is ignored). */
  isActive(id: string): boolean;
  /** The gateway confirmed an accept. */
  accepted(c: VetConsultationPayload): void;
  /** The number of offers changed. */
  changed(): void;
}

const REVOKED_TEXT = {
  cancelled: "The owner cancelled the request.",
  timeout: "The request timed out.",
  taken: "Another vet took the request.",
};

export class OfferList {
  private readonly cards = new Map<string, HTMLElement>();
  private readonly root = byId("offers");

  constructor(
    private readonly ctx: ConsoleContext,
    private readonly hooks: OfferListHooks,
  ) {}

  get size(): number {
    return this.cards.size;
  }

  /**
   * A `consult:offer` (new, or re-sent after a reconnect: the card is replaced, no second
   * alert). Emergency offers go above the others, the newest first within each group.
   */
  add(o: Offer): void {
    if (this.hooks.isActive(o.consultation_id)) return;
    const fresh = !this.cards.has(o.consultation_id);
    this.cards.get(o.consultation_id)?.remove();
    this.cards.delete(o.consultation_id);
    const card = offerCard(o, this.ctx.config.offer_timeout_ms, this.ctx.vet?.languages, {
      accept: (id) => void this.accept(id),
      decline: (id) => void this.decline(id),
    });
    const shown = [...this.root.querySelectorAll<HTMLElement>("[data-testid=offer]")];
    const at = offerInsertIndex(
      shown.map((c) => c.classList.contains("emergency")),
      o.emergency === true,
    );
    if (at < shown.length) shown[at].before(card);
    else if (shown.length) shown[shown.length - 1].after(card);
    else this.root.prepend(card);
    this.cards.set(o.consultation_id, card);
    this.hooks.changed();
    const kind = o.type === "video" ? "video" : "chat";
    if (fresh)
      this.ctx.alerts.ring(
        o.emergency ? `Emergency ${kind} request` : kind === "video" ? "Video request" : "Chat request",
        `${personName(o.user)} is waiting`,
      );
  }

  remove(id: string): void {
    const card = this.cards.get(id);
    if (!card) return;
    const focused = card.contains(document.activeElement);
    card.remove();
    this.cards.delete(id);
    this.hooks.changed();
    // Keyboard users stay in the list: the next offer's Accept takes the focus.
    if (focused) this.root.querySelector<HTMLElement>("[data-testid=offer-accept]")?.focus();
  }

  /** `consult:offer_revoked`: the card goes, with a short reason. */
  revoked(r: EventPayload<VetEvents, "consult:offer_revoked">): void {
    if (!this.cards.has(r.consultation_id)) return;
    this.remove(r.consultation_id);
    this.ctx.notices.show(REVOKED_TEXT[r.reason], "info", 6_000);
  }

  /** Moves the countdowns. */
  tick(): void {
    tickCountdowns(this.root);
  }

  /** The empty state (it depends on availability) and the count beside the heading. */
  render(availability: Availability): void {
    this.root.querySelector(".empty")?.remove();
    if (this.cards.size === 0) {
      const text =
        availability === "available"
          ? "No requests right now. New ones appear here with a sound."
          : availability === "away"
            ? "You are away. Choose Available to receive requests."
            : "Waiting for the connection…";
      this.root.append(h("p", { class: "empty" }, text));
    }
    fill(byId("offer-count"), this.cards.size ? String(this.cards.size) : "");
  }

  private async accept(id: string): Promise<void> {
    const client = this.ctx.client();
    if (!client) return;
    this.disable(id);
    try {
      const c = await client.accept(id);
      this.remove(id);
      this.hooks.accepted(c);
    } catch (err) {
      this.remove(id);
      this.ctx.notices.show(`Could not accept: ${reason(err)}`, "error", 8_000);
    }
  }

  private async decline(id: string): Promise<void> {
    const client = this.ctx.client();
    if (!client) return;
    this.disable(id);
    try {
      await client.decline(id);
    } catch {
      /* the offer is gone either way */
    }
    this.remove(id);
  }

  private disable(id: string): void {
    for (const b of this.cards.get(id)?.querySelectorAll("button") ?? []) b.disabled = true;
  }
}
