/**
 * The "Pet history" panel beside an active consultation (PROTOCOL §10): the pet's past
 * consultations in its app, newest first, a page at a time ("More"), from
 * `GET /vet/v1/pets/{pet_id}/history` with the vet's token.
 */
import { api, reason } from "../shared/api.js";
import { h } from "../shared/dom.js";
import { outcomeLabel } from "./outcomes.js";
import { currentToken } from "./session.js";

interface HistoryItem {
  consultation_id: string;
  date: string;
  ended_at: string | null;
  channel: "chat" | "video";
  vet_name: string;
  duration_s: number | null;
  outcome: string | null;
  recommendation: string | null;
  reason: string | null;
}
interface HistoryPage {
  list: HistoryItem[];
  pagination: { total: number; page: number; perPage: number; last_page: number };
}

const dateFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });

/** "12 min", "45 s", "1 h 5 min". */
function duration(s: number | null): string {
  if (s === null) return "";
  if (s < 60) return `${String(s)} s`;
  const m = Math.round(s / 60);
  return m < 60 ? `${String(m)} min` : `${String(Math.floor(m / 60))} h ${String(m % 60)} min`;
}

function item(c: HistoryItem): HTMLElement {
  const when = dateFormat.format(new Date(c.date));
  const meta = [c.channel === "video" ? "Video" : "Chat", duration(c.duration_s), c.vet_name ? `Dr. ${c.vet_name}` : ""]
    .filter(Boolean)
    .join(" · ");
  return h(
    "li",
    { class: "history-item", "data-testid": "pet-history-item", "data-consultation-id": c.consultation_id },
    h(
      "div",
      { class: "row spread" },
      h("time", { datetime: c.date, class: "history-date" }, when),
      h("span", { class: `badge${c.outcome ? " outcome" : ""}` }, c.outcome ? outcomeLabel(c.outcome) : "No outcome"),
    ),
    h("p", { class: "small muted" }, meta),
    c.recommendation !== null
      ? h(
          "dl",
          { class: "facts small" },
          h("dt", {}, "Reason"),
          h("dd", {}, c.reason ?? ""),
          h("dt", {}, "Advice"),
          h("dd", {}, c.recommendation),
        )
      : h("p", { class: "small muted" }, "No feedback was given."),
  );
}

/** The panel of one pet; loads its first page at once. */
export function petHistoryPanel(petId: number | null, consultationId: string): HTMLElement {
  const titleId = `history-title-${consultationId}`;
  // Focusable: a scrolling region must be reachable by keyboard (WCAG 2.1.1).
  const list = h("ol", { class: "history-list", tabindex: 0, "aria-labelledby": titleId });
  const status = h("p", { class: "small muted", role: "status" });
  const more = h("button", { type: "button", class: "small", "data-testid": "pet-history-more", hidden: true }, "More");
  const el = h(
    "section",
    { class: "pet-history stack", "data-testid": "pet-history", "aria-labelledby": titleId, "aria-busy": "true" },
    h("h3", { id: titleId }, "Pet history"),
    list,
    status,
    more,
  );
  if (petId === null) {
    el.setAttribute("aria-busy", "false");
    status.textContent = "No pet on this request, so there is no history.";
    return el;
  }
  let page = 0;
  const load = async () => {
    more.disabled = true;
    status.textContent = "Loading…";
    el.setAttribute("aria-busy", "true");
    try {
      const { token } = await currentToken();
      const data = await api<HistoryPage>("GET", `/vet/v1/pets/${String(petId)}/history?page=${String(page + 1)}`, {
        bearer: token,
      });
      page = data.pagination.page;
      for (const c of data.list) list.append(item(c));
      const shown = list.childElementCount;
      status.textContent =
        data.pagination.total === 0
          ? "No earlier consultations for this pet."
          : `Showing ${String(shown)} of ${String(data.pagination.total)} earlier consultation${data.pagination.total === 1 ? "" : "s"}.`;
      const hadFocus = document.activeElement === more;
      more.hidden = page >= data.pagination.last_page;
      // The last page hides "More": the keyboard continues in the list rather than the page's start.
      if (hadFocus && more.hidden) list.focus();
    } catch (err) {
      status.textContent = `History not available: ${reason(err)}`;
    } finally {
      more.disabled = false;
      el.setAttribute("aria-busy", "false");
    }
  };
  more.addEventListener("click", () => void load());
  void load();
  return el;
}
