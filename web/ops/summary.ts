/**
 * Statistics over days on the dashboard (`GET /admin/v1/stats/summary`, PROTOCOL §9): the
 * range's totals, requests and matches per day, abandonment, wait p90 and handling p50 per
 * day, and a table per vet.
 */
import uPlot, { type AlignedData, type Options } from "uplot";
import type { Summary } from "../../src/ops/stats-summary.js";
import { reason } from "../shared/api.js";
import { byId, fill, h } from "../shared/dom.js";

type Admin = <T>(method: string, path: string, body?: unknown) => Promise<T>;

const charts = new Map<string, uPlot>();
const pct = (r: number) => `${(r * 100).toFixed(1)} %`;
const secs = (s: number | null) => (s === null ? "–" : s < 120 ? `${s.toFixed(0)} s` : `${(s / 60).toFixed(1)} min`);

function chart(id: string, series: Array<{ label: string; color: string }>, data: AlignedData): void {
  const el = byId(id);
  charts.get(id)?.destroy();
  fill(el);
  const opts: Options = {
    width: Math.max(240, el.clientWidth || 320),
    height: 200,
    legend: { show: true, live: false },
    cursor: { drag: { x: false, y: false } },
    scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, Math.max(1, Math.ceil(max * 1.15))] } },
    axes: [
      { stroke: "#5f6b7a", grid: { stroke: "#eef0f3" }, ticks: { stroke: "#dfe3e8" } },
      { stroke: "#5f6b7a", grid: { stroke: "#eef0f3" }, ticks: { stroke: "#dfe3e8" }, size: 52 },
    ],
    series: [
      {},
      ...series.map((s) => ({ label: s.label, stroke: s.color, width: 2, points: { show: true, size: 4 } })),
    ],
  };
  charts.set(id, new uPlot(opts, data, el));
}

/** "resolved 71, follow up 18" (most frequent first), or "–" without feedback outcomes. */
function outcomesText(byOutcome: Record<string, number>): string {
  const entries = Object.entries(byOutcome).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  return entries.map(([o, n]) => `${o.replace(/_/g, " ")} ${String(n)}`).join(", ") || "–";
}

/** Loads the last `days` days and draws them. */
export async function loadSummary(admin: Admin, days = 30): Promise<void> {
  const to = new Date().toISOString().slice(0, 10);
  const from = new Date(Date.now() - (days - 1) * 86_400_000).toISOString().slice(0, 10);
  let s: Summary;
  try {
    s = await admin<Summary>("GET", `/admin/v1/stats/summary?from=${from}&to=${to}`);
  } catch (err) {
    fill(byId("summary-totals"), h("p", { class: "notice warn" }, `Statistics unavailable: ${reason(err)}`));
    return;
  }
  fill(
    byId("summary-totals"),
    ...[
      ["Requests", String(s.requests)],
      ["Matched", String(s.matched)],
      ["Abandoned", pct(s.abandonment_rate)],
      ["Wait p90", secs(s.wait_s.p90)],
      ["Handling p50", secs(s.handle_s.p50)],
    ].map(([label, value]) =>
      h(
        "div",
        { class: "stat panel" },
        h("div", { class: "muted small" }, label),
        h("div", { class: "stat-value", "data-testid": `summary-${label.toLowerCase().replace(/ /g, "-")}` }, value),
      ),
    ),
    // Feedback outcomes of the range (PROTOCOL §10), most frequent first.
    h(
      "div",
      { class: "stat panel outcomes" },
      h("div", { class: "muted small" }, "Outcomes"),
      h("p", { class: "outcome-list", "data-testid": "summary-outcomes" }, outcomesText(s.by_outcome)),
    ),
  );
  const xs = s.days.map((d) => Date.parse(`${d.day}T12:00:00Z`) / 1000);
  chart(
    "chart-days",
    [
      { label: "Requests", color: "#0f6e6a" },
      { label: "Matched", color: "#2f4f86" },
      { label: "Abandoned", color: "#b42318" },
    ],
    [xs, s.days.map((d) => d.requests), s.days.map((d) => d.matched), s.days.map((d) => d.cancelled_before_match)],
  );
  chart(
    "chart-times",
    [
      { label: "Wait p90 (s)", color: "#c27c12" },
      { label: "Handling p50 (min)", color: "#44506a" },
    ],
    [xs, s.days.map((d) => d.wait_s.p90), s.days.map((d) => (d.handle_s.p50 === null ? null : d.handle_s.p50 / 60))],
  );
  const rows = s.by_vet.map((v) =>
    h(
      "tr",
      { "data-testid": "summary-vet" },
      h("td", {}, String(v.vet_id)),
      h("td", {}, String(v.matched)),
      h("td", {}, secs(v.wait_s.p50)),
      h("td", {}, secs(v.handle_s.p50)),
      h("td", {}, secs(v.handle_s.p90)),
      h("td", {}, outcomesText(v.by_outcome)),
    ),
  );
  fill(
    byId("summary-vets"),
    rows.length === 0
      ? h("p", { class: "muted small" }, "No consultations in these days.")
      : h(
          "table",
          {},
          h(
            "thead",
            {},
            h(
              "tr",
              {},
              ...["Vet", "Consultations", "Wait p50", "Handling p50", "Handling p90", "Outcomes"].map((c) =>
                h("th", { scope: "col" }, c),
              ),
            ),
          ),
          h("tbody", {}, ...rows),
        ),
  );
}
