/** Offer cards: owner, pet, channel, badges, a live countdown to `expires_at`, accept and decline. */
import type { OfferPayload } from "../../src/client/index.js";
import { h } from "../shared/dom.js";
import { clock, personName } from "../shared/format.js";
import { petSummary } from "../shared/pet.js";
import { offerReferral } from "./referral.js";
import { tagBadges } from "./tags.js";

/** An offer as the console keeps it (`transferred`, `emergency` and `language` are optional). */
export type Offer = OfferPayload;

export interface OfferHandlers {
  accept(id: string): void;
  decline(id: string): void;
}

/** An offer card; `spoken`: the vet's languages, to mark a request in another one. */
export function offerCard(
  offer: Offer,
  totalMs: number,
  spoken: readonly string[] | undefined,
  on: OfferHandlers,
): HTMLElement {
  const owner = personName(offer.user);
  const video = offer.type === "video";
  const countdown = h("span", {
    class: "countdown",
    "data-testid": "offer-countdown",
    role: "timer",
    "aria-live": "off",
    "aria-label": "Time left to answer",
  });
  const bar = h("span", { class: "bar-fill" });
  const accept = h("button", { class: "primary", type: "button", "data-testid": "offer-accept" }, "Accept");
  const decline = h("button", { type: "button", "data-testid": "offer-decline" }, "Decline");
  accept.addEventListener("click", () => on.accept(offer.consultation_id));
  decline.addEventListener("click", () => on.decline(offer.consultation_id));
  const card = h(
    "article",
    {
      class: `panel offer${offer.emergency ? " emergency" : ""}`,
      "data-testid": "offer",
      "data-consultation-id": offer.consultation_id,
      "data-expires": Date.parse(offer.expires_at),
      "data-total": totalMs,
      "aria-label": `${offer.emergency ? "Emergency: " : ""}${offer.referral ? "Referral: " : ""}${video ? "Video" : "Chat"} request from ${owner}`,
    },
    h(
      "div",
      { class: "row spread" },
      h(
        "div",
        { class: "row" },
        h("span", { class: `badge ${video ? "info" : "accent"}` }, video ? "Video" : "Chat"),
        ...tagBadges(offer, spoken, "offer"),
        offer.requested ? h("span", { class: "badge ok" }, "Requested you") : null,
        offer.transferred ? h("span", { class: "badge warn" }, "Transferred") : null,
        offer.referral ? h("span", { class: "badge info" }, "Referral") : null,
      ),
      countdown,
    ),
    h("span", { class: "bar", "aria-hidden": "true" }, bar),
    offerReferral(offer),
    petSummary(offer.pet),
    h("p", { class: "small" }, h("span", { class: "muted" }, "Owner "), owner),
    h("p", { class: "small muted", "data-testid": "offer-history-count" }, historyText(offer.history_count)),
    h("div", { class: "row actions" }, accept, decline),
  );
  updateCountdown(card);
  return card;
}

/** "No earlier consultations", "1 earlier consultation", "N earlier consultations" (PROTOCOL §10). */
function historyText(n: number | undefined): string {
  if (!n) return "No earlier consultations";
  return `${String(n)} earlier consultation${n === 1 ? "" : "s"}`;
}

/** Refreshes the countdown text and bar of every offer card under `root`. */
export function tickCountdowns(root: ParentNode): void {
  for (const card of root.querySelectorAll<HTMLElement>("[data-testid=offer]")) updateCountdown(card);
}

function updateCountdown(card: HTMLElement): void {
  const left = Number(card.dataset.expires) - Date.now();
  const total = Math.max(1, Number(card.dataset.total));
  const text = card.querySelector<HTMLElement>(".countdown");
  const bar = card.querySelector<HTMLElement>(".bar-fill");
  if (text) text.textContent = left > 0 ? clock(left) : "0:00";
  if (bar) bar.style.width = `${Math.max(0, Math.min(100, (left / total) * 100))}%`;
  card.classList.toggle("urgent", left < 10_000);
}
