/** The dashboard's three uPlot charts over `GET /admin/v1/stats/history`. */
import uPlot, { type AlignedData, type Options } from "uplot";
import type { StatsHistoryData } from "../../src/ops/stats-history.js";
import { byId, fill } from "../shared/dom.js";

/** The `data` of `GET /admin/v1/stats/history`: the server's own type (erased at build). */
export type History = StatsHistoryData;

const COLORS = {
  available: "#1f7a4d",
  busy: "#2f4f86",
  away: "#c27c12",
  offline: "#9aa5b1",
  queue: "#0f6e6a",
  p50: "#0f6e6a",
  p95: "#b42318",
};
const charts = new Map<string, uPlot>();

/** The x range: the whole window (last hour), so a young history sits at the right edge. */
let xRange: [number, number] = [0, 1];

function draw(
  id: string,
  series: { label: string; color: string; fill?: boolean; dots?: boolean }[],
  data: AlignedData,
): void {
  const el = byId(id);
  const width = Math.max(240, el.clientWidth || 320);
  const old = charts.get(id);
  if (old && old.series.length === series.length + 1) {
    old.setData(data);
    if (Math.abs(old.width - width) > 4) old.setSize({ width, height: 200 });
    return;
  }
  old?.destroy();
  fill(el);
  const opts: Options = {
    width,
    height: 200,
    legend: { show: true, live: false },
    cursor: { drag: { x: false, y: false } },
    scales: {
      x: { time: true, range: () => xRange },
      y: { range: (_u, _min, max) => [0, Math.max(1, Math.ceil(max * 1.15))] },
    },
    axes: [
      { stroke: "#5f6b7a", grid: { stroke: "#eef0f3" }, ticks: { stroke: "#dfe3e8" } },
      // Whole numbers only: these are counts and milliseconds.
      {
        stroke: "#5f6b7a",
        grid: { stroke: "#eef0f3" },
        ticks: { stroke: "#dfe3e8" },
        size: 52,
        incrs: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000],
      },
    ],
    series: [
      {},
      ...series.map((s) => ({
        label: s.label,
        stroke: s.color,
        width: 2,
        ...(s.fill ? { fill: `${s.color}1f` } : {}),
        points: { show: !!s.dots, size: 5 },
      })),
    ],
  };
  charts.set(id, new uPlot(opts, data, el));
}

export function drawCharts(history: History): void {
  const points = history.samples;
  const xs = points.map((p) => Date.parse(p.t) / 1000);
  const end = xs.at(-1) ?? Date.now() / 1000;
  xRange = [end - history.window_s, end];
  draw("chart-queue", [{ label: "Waiting", color: COLORS.queue, fill: true }], [xs, points.map((p) => p.queue_length)]);
  const statuses = ["available", "busy", "away", "offline"] as const;
  draw(
    "chart-vets",
    statuses.map((s) => ({ label: s[0].toUpperCase() + s.slice(1), color: COLORS[s] })),
    [xs, ...statuses.map((s) => points.map((p) => p.vets[s] ?? 0))],
  );
  draw(
    "chart-latency",
    [
      // Steps without a match are gaps: dots keep lone values visible.
      { label: "p50", color: COLORS.p50, dots: true },
      { label: "p95", color: COLORS.p95, dots: true },
    ],
    [xs, points.map((p) => p.match_latency_ms?.p50 ?? null), points.map((p) => p.match_latency_ms?.p95 ?? null)],
  );
}
