/**
 * Partner webhooks on the dashboard (PROTOCOL §9): each app's endpoint and its health (last
 * success, failures in a row, the oldest event still waiting), its last deliveries, and a
 * retry for an event that failed.
 */
import { ApiError, reason } from "../shared/api.js";
import { fill, h } from "../shared/dom.js";

interface Health {
  last_success_at: string | null;
  failures_in_a_row: number;
  oldest_pending_at: string | null;
  pending: number;
  failed: number;
}
interface AppRow {
  id: number;
  name: string;
  webhook_url: string | null;
  webhook_health: Health | null;
}
interface Delivery {
  id: number;
  consultation_id: string;
  type: string;
  status: "pending" | "delivered" | "failed";
  attempts: number;
  last_status: number | null;
  last_error: string | null;
  occurred_at: string;
}

type Admin = <T>(method: string, path: string, body?: unknown) => Promise<T>;

const when = (iso: string | null): string => (iso === null ? "–" : new Date(iso).toLocaleString());

function state(hl: Health | null): HTMLElement {
  if (!hl) return h("span", { class: "badge" }, "no webhook");
  if (hl.failures_in_a_row > 0) return h("span", { class: "badge warn" }, `${String(hl.failures_in_a_row)} failing`);
  if (hl.pending > 0) return h("span", { class: "badge" }, `${String(hl.pending)} pending`);
  return h("span", { class: "badge ok" }, "healthy");
}

/** Fills `el` with the apps table; a click on an app shows its deliveries in `detail`. */
export async function loadWebhooks(el: HTMLElement, detail: HTMLElement, admin: Admin): Promise<void> {
  let apps: AppRow[];
  try {
    apps = await admin<AppRow[]>("GET", "/admin/v1/apps");
  } catch (err) {
    fill(el, h("p", { class: "notice warn" }, reason(err)));
    return;
  }
  if (apps.length === 0) return fill(el, h("p", { class: "muted small" }, "No apps yet."));
  const rows = apps.map((a) => {
    const show = h("button", { class: "small", type: "button", "data-testid": "webhook-show" }, "Deliveries");
    show.addEventListener("click", () => void showDeliveries(a, detail, admin));
    const edit = h(
      "button",
      { class: "small ghost", type: "button", "data-testid": "webhook-edit" },
      a.webhook_url ? "Change" : "Set URL",
    );
    edit.addEventListener("click", () => showSettings(a, detail, admin, () => void loadWebhooks(el, detail, admin)));
    const hl = a.webhook_health;
    return h(
      "tr",
      { "data-testid": "webhook-app", "data-app-id": a.id },
      h("td", {}, a.name),
      h("td", { class: "mono wrap" }, a.webhook_url ?? "–"),
      h("td", {}, state(hl)),
      h("td", {}, when(hl?.last_success_at ?? null)),
      h("td", {}, when(hl?.oldest_pending_at ?? null)),
      h("td", {}, hl ? String(hl.failed) : "–"),
      h("td", { class: "row" }, a.webhook_url ? show : "", edit),
    );
  });
  fill(
    el,
    h(
      "table",
      {},
      h(
        "thead",
        {},
        h(
          "tr",
          {},
          ...["App", "Endpoint", "State", "Last success", "Oldest waiting", "Failed", ""].map((c) =>
            h("th", { scope: "col" }, c),
          ),
        ),
      ),
      h("tbody", {}, ...rows),
    ),
  );
}

/** The new signing secret, shown once with a reminder that it will not be shown again. */
function secretNotice(secret: string): HTMLElement {
  return h(
    "div",
    { class: "notice ok stack", "data-testid": "webhook-secret" },
    h("strong", {}, "Signing secret (shown only now: give it to the partner):"),
    h("code", { class: "mono wrap" }, secret),
  );
}

/** A form to set, change or remove an app's webhook URL, and to rotate its secret. */
function showSettings(app: AppRow, out: HTMLElement, admin: Admin, changed: () => void): void {
  const input = h("input", {
    id: "webhook-url",
    type: "url",
    value: app.webhook_url ?? "",
    placeholder: "https://partner.example.com/hooks",
    "data-testid": "webhook-url",
  });
  const result = h("div", { "aria-live": "polite" });
  const save = h("button", { class: "primary", type: "submit" }, "Save");
  const form = h(
    "form",
    { class: "stack", "aria-label": `Webhook of ${app.name}` },
    h("label", { for: "webhook-url" }, `Webhook URL of ${app.name}`),
    input,
    h("div", { class: "row" }, save),
  );
  const send = (body: { webhook_url: string | null }) =>
    admin<{ webhook_url: string | null; webhook_secret?: string }>(
      "PATCH",
      `/admin/v1/apps/${String(app.id)}`,
      body,
    ).then(
      (r) => {
        fill(
          result,
          r.webhook_secret
            ? secretNotice(r.webhook_secret)
            : h("p", { class: "notice ok" }, r.webhook_url ? "Saved." : "Webhooks stopped."),
        );
        changed();
      },
      (err: unknown) => fill(result, h("p", { class: "notice warn" }, reason(err))),
    );
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const url = input.value.trim();
    void send({ webhook_url: url === "" ? null : url });
  });
  const extra: HTMLElement[] = [];
  if (app.webhook_url) {
    const rotate = h("button", { type: "button", "data-testid": "webhook-rotate" }, "New secret");
    rotate.addEventListener("click", () => {
      admin<{ webhook_secret: string }>("POST", `/admin/v1/apps/${String(app.id)}/webhook-secret`).then(
        (r) => fill(result, secretNotice(r.webhook_secret)),
        (err: unknown) => fill(result, h("p", { class: "notice warn" }, reason(err))),
      );
    });
    const remove = h("button", { type: "button", class: "danger" }, "Stop webhooks");
    remove.addEventListener("click", () => void send({ webhook_url: null }));
    extra.push(rotate, remove);
  }
  form.querySelector(".row")?.append(...extra);
  fill(out, form, result);
  input.focus();
}

async function showDeliveries(app: AppRow, out: HTMLElement, admin: Admin): Promise<void> {
  fill(out, h("p", { class: "muted small" }, "Loading…"));
  let log: { deliveries: Delivery[] };
  try {
    log = await admin<{ deliveries: Delivery[] }>("GET", `/admin/v1/apps/${String(app.id)}/webhooks`);
  } catch (err) {
    fill(out, h("p", { class: "notice warn" }, reason(err)));
    return;
  }
  const rows = log.deliveries.map((d) => {
    const retry = h(
      "button",
      {
        class: "small",
        type: "button",
        "data-testid": "webhook-retry",
        "aria-label": `Retry delivery ${String(d.id)}`,
      },
      "Retry",
    );
    retry.addEventListener("click", () => {
      retry.setAttribute("disabled", "");
      admin<true>("POST", `/admin/v1/webhooks/${String(d.id)}/retry`).then(
        () => void showDeliveries(app, out, admin),
        (err: unknown) => {
          retry.removeAttribute("disabled");
          out.prepend(
            h(
              "p",
              { class: "notice warn" },
              err instanceof ApiError && err.status === 404 ? "That delivery is gone (pruned)." : reason(err),
            ),
          );
        },
      );
    });
    return h(
      "tr",
      { "data-testid": "webhook-delivery" },
      h("td", { class: "mono" }, String(d.id)),
      h("td", {}, d.type),
      h(
        "td",
        {},
        h(
          "span",
          { class: `badge ${d.status === "delivered" ? "ok" : d.status === "failed" ? "warn" : ""}` },
          d.status,
        ),
      ),
      h("td", {}, String(d.attempts)),
      h("td", { class: "wrap" }, d.last_error ?? (d.last_status !== null ? `HTTP ${String(d.last_status)}` : "–")),
      h("td", {}, when(d.occurred_at)),
      h("td", {}, d.status === "failed" ? retry : ""),
    );
  });
  fill(
    out,
    h("h3", {}, `Last deliveries to ${app.name}`),
    rows.length === 0
      ? h("p", { class: "muted small" }, "None yet.")
      : h(
          "table",
          {},
          h(
            "thead",
            {},
            h(
              "tr",
              {},
              ...["Id", "Event", "Status", "Attempts", "Last answer", "Happened", ""].map((c) =>
                h("th", { scope: "col" }, c),
              ),
            ),
          ),
          h("tbody", {}, ...rows),
        ),
  );
}
