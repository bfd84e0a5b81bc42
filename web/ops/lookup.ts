/** Renders `GET /admin/v1/consultations/{id}` (PROTOCOL §6): facts, transitions, offers, feedback. */
import { h } from "../shared/dom.js";

type Rec = Record<string, unknown>;

const text = (v: unknown): string => {
  if (v === null || v === undefined) return "–";
  if (typeof v === "string") return v;
  if (typeof v === "number" || typeof v === "boolean") return String(v);
  return JSON.stringify(v);
};

function table(rows: unknown, columns: string[]): HTMLElement {
  const list = Array.isArray(rows) ? (rows as Rec[]) : [];
  if (list.length === 0) return h("p", { class: "muted small" }, "None.");
  return h(
    "table",
    {},
    h("thead", {}, h("tr", {}, ...columns.map((c) => h("th", { scope: "col" }, c.replace(/_/g, " "))))),
    h("tbody", {}, ...list.map((r) => h("tr", {}, ...columns.map((c) => h("td", {}, text(r[c])))))),
  );
}

export function renderConsultation(c: Rec): HTMLElement {
  const keys = [
    "id",
    "status",
    "type",
    "source",
    "app_id",
    "user_id",
    "pet_id",
    "requested_vet_id",
    "vet_id",
    "channel_sid",
    "room_sid",
    "ended_by",
    "end_reason",
    "created_at",
    "accepted_at",
    "ended_at",
  ];
  const fb = c.feedback as Rec | null | undefined;
  return h(
    "div",
    { class: "stack" },
    h(
      "dl",
      { class: "facts" },
      ...keys
        .filter((k) => k in c)
        .flatMap((k) => [
          h("dt", {}, k.replace(/_/g, " ")),
          h("dd", { class: k.endsWith("id") || k.endsWith("sid") ? "mono" : "" }, text(c[k])),
        ]),
    ),
    h("h3", {}, "Transitions"),
    table(c.events, ["from_status", "to_status", "at", "detail"]),
    h("h3", {}, "Offers"),
    table(c.offers, ["vet_id", "offered_at", "expires_at", "outcome", "resolved_at"]),
    h("h3", {}, "Feedback"),
    fb
      ? h(
          "dl",
          { class: "facts" },
          ...Object.entries(fb).flatMap(([k, v]) => [h("dt", {}, k.replace(/_/g, " ")), h("dd", {}, text(v))]),
        )
      : h("p", { class: "muted small" }, "None."),
  );
}
