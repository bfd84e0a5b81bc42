/** Banners at the top of the page (connection, presence, errors) and the sound and notification switches. */
import { byId, h } from "../shared/dom.js";
import type { Alerts } from "./alerts.js";

export type NoticeKind = "info" | "warn" | "error";

export class Notices {
  private readonly root = byId("banners");

  /** Shows `text` until dismissed, or for `ttlMs` when given; `action` is an extra control beside Dismiss. */
  show(text: string, kind: NoticeKind, ttlMs = 0, action?: HTMLElement): void {
    const close = h("button", { class: "ghost small", type: "button", "aria-label": "Dismiss" }, "Dismiss");
    const el = h(
      "div",
      { class: `notice ${kind}`, role: kind === "error" ? "alert" : "status" },
      h("span", {}, text),
      h("span", { class: "row" }, action, close),
    );
    close.addEventListener("click", () => el.remove());
    this.root.append(el);
    if (ttlMs) setTimeout(() => el.remove(), ttlMs);
  }
}

/** Wires the top bar's "Sound" and "Notifications" switches to `alerts`. */
export function alertToggles(alerts: Alerts): void {
  const soundBtn = byId<HTMLButtonElement>("sound-toggle");
  const notifyBtn = byId<HTMLButtonElement>("notify-toggle");
  const render = () => {
    soundBtn.textContent = alerts.sound ? "Sound on" : "Sound off";
    soundBtn.setAttribute("aria-pressed", String(alerts.sound));
    notifyBtn.textContent = alerts.notify ? "Notifications on" : "Notifications off";
    notifyBtn.setAttribute("aria-pressed", String(alerts.notify));
  };
  soundBtn.addEventListener("click", () => {
    alerts.setSound(!alerts.sound);
    render();
  });
  notifyBtn.addEventListener("click", () => void alerts.setNotify(!alerts.notify).then(render));
  render();
}
