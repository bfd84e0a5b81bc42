/**
 * The operator dashboard: live counts (`GET /admin/v1/stats`), the last hour as uPlot charts
 * (`GET /admin/v1/stats/history`), partner webhooks' health with retries, consultation
 * lookup and vet enable/disable. The admin
 * token lives in sessionStorage only (this tab).
 */
import "../shared/base.css";
import "uplot/dist/uPlot.min.css";
import "./ops.css";
import { ApiError, api, reason } from "../shared/api.js";
import { byId, fill, h } from "../shared/dom.js";
import { drawCharts, type History } from "./charts.js";
import { renderConsultation } from "./lookup.js";
import { loadWebhooks } from "./webhooks.js";
import { loadSummary } from "./summary.js";

interface Stats {
  queue_length: number;
  /** Absent from a gateway before licensing. */
  waiting_advice?: number;
  vets: Record<string, number>;
  open_consultations: number;
}

const KEY = "ops.admin-token";
let timer: ReturnType<typeof setInterval> | null = null;

const token = () => sessionStorage.getItem(KEY) ?? "";
const admin = <T>(method: string, path: string, body?: unknown) =>
  api<T>(method, path, { bearer: token(), ...(body === undefined ? {} : { body }) });

function showLogin(message?: string): void {
  if (timer) clearInterval(timer);
  byId("app-view").hidden = true;
  byId("login-view").hidden = false;
  const err = byId("token-error");
  err.hidden = !message;
  err.textContent = message ?? "";
  byId("admin-token").focus();
}

byId<HTMLFormElement>("token-form").addEventListener("submit", (e) => {
  e.preventDefault();
  const t = byId<HTMLInputElement>("admin-token").value.trim();
  if (!t) return showLogin("Enter the admin token.");
  sessionStorage.setItem(KEY, t);
  void api<Stats>("GET", "/admin/v1/stats", { bearer: t }).then(
    () => {
      byId<HTMLInputElement>("admin-token").value = "";
      open();
    },
    (err: unknown) => {
      sessionStorage.removeItem(KEY);
      showLogin(err instanceof ApiError && err.status === 401 ? "That token is not accepted." : reason(err));
    },
  );
});

byId("forget").addEventListener("click", () => {
  sessionStorage.removeItem(KEY);
  showLogin();
});

function open(): void {
  byId("login-view").hidden = true;
  byId("app-view").hidden = false;
  let n = 0;
  const refresh = () => {
    void loadStats();
    if (n % 2 === 0) void loadHistory();
    if (n % 6 === 0) void loadWebhooks(byId("webhooks-table"), byId("webhooks-detail"), admin);
    if (n % 60 === 0) void loadSummary(admin);
    n++;
  };
  refresh();
  if (timer) clearInterval(timer);
  timer = setInterval(refresh, 5_000);
}

async function loadStats(): Promise<void> {
  try {
    const s = await admin<Stats>("GET", "/admin/v1/stats");
    byId("s-queue").textContent = String(s.queue_length);
    // PROTOCOL §4: how much of the queue is advice only (any vet) against treatment (licensed vets).
    const advice = s.waiting_advice ?? 0;
    byId("s-care").textContent = s.queue_length > 0 ? `${s.queue_length - advice} treatment · ${advice} advice` : "";
    byId("s-available").textContent = String(s.vets.available ?? 0);
    byId("s-busy").textContent = String(s.vets.busy ?? 0);
    byId("s-away").textContent = String(s.vets.away ?? 0);
    byId("s-open").textContent = String(s.open_consultations);
    fill(byId("updated"), h("span", { class: "dot ok" }), h("span", {}, `Updated ${new Date().toLocaleTimeString()}`));
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) return showLogin("The admin token is no longer accepted.");
    fill(byId("updated"), h("span", { class: "dot bad" }), h("span", {}, `Stale: ${reason(err)}`));
  }
}

async function loadHistory(): Promise<void> {
  try {
    drawCharts(await admin<History>("GET", "/admin/v1/stats/history"));
  } catch (err) {
    const text =
      err instanceof ApiError && err.status === 404
        ? "History is not available on this gateway."
        : `History unavailable: ${reason(err)}`;
    for (const id of ["chart-queue", "chart-vets", "chart-latency"]) fill(byId(id), h("p", { class: "empty" }, text));
  }
}

byId<HTMLFormElement>("lookup-form").addEventListener("submit", (e) => {
  e.preventDefault();
  const id = byId<HTMLInputElement>("lookup-id").value.trim();
  const out = byId("lookup-result");
  if (!id) return;
  fill(out, h("p", { class: "muted small" }, "Looking up…"));
  admin<Record<string, unknown>>("GET", `/admin/v1/consultations/${encodeURIComponent(id)}`).then(
    (c) => fill(out, renderConsultation(c)),
    (err: unknown) =>
      fill(
        out,
        h(
          "p",
          { class: "notice warn" },
          err instanceof ApiError && err.status === 404
            ? "Not found (or lookup is not available on this gateway)."
            : reason(err),
        ),
      ),
  );
});

byId<HTMLFormElement>("vet-form").addEventListener("submit", (e) => {
  e.preventDefault();
  const action = (e.submitter as HTMLButtonElement | null)?.value === "disable" ? "disable" : "enable";
  const id = byId<HTMLInputElement>("vet-id").value.trim();
  const out = byId("vet-result");
  if (!/^\d+$/.test(id)) return fill(out, h("p", { class: "notice warn" }, "Enter a numeric vet id."));
  admin<unknown>("PATCH", `/admin/v1/vets/${id}`, { active: action === "enable" }).then(
    () => fill(out, h("p", { class: "notice ok" }, `Vet ${id} ${action === "enable" ? "enabled" : "disabled"}.`)),
    (err: unknown) =>
      fill(
        out,
        h(
          "p",
          { class: "notice warn" },
          err instanceof ApiError && err.status === 404
            ? `Vet ${id} not found (or vet access is not available on this gateway).`
            : reason(err),
        ),
      ),
  );
});

if (token()) open();
else showLogin();
