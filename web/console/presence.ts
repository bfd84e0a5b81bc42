/**
 * The vet's availability control and the connection indicator. The chosen availability is
 * kept in sessionStorage so a reload (or a reconnect) restores it; the gateway's `presence`
 * events are the truth shown.
 */
import type { ConnectionStatus, EventPayload, VetEvents } from "../../src/client/index.js";
import { reason } from "../shared/api.js";
import { byId, fill, h } from "../shared/dom.js";
import type { ConsoleContext } from "./context.js";

export type Availability = "available" | "away" | "offline";

const WANT_KEY = "vet-console.availability";
const PRESENCE_TEXT: Record<string, string> = {
  offer_timeout: "You were set away: an offer timed out. Choose Available when you are ready.",
};
const CONNECTION_TEXT: Record<ConnectionStatus, [string, string]> = {
  connecting: ["Connecting…", "warn"],
  connected: ["Connected", "ok"],
  reconnecting: ["Reconnecting…", "warn"],
  disconnected: ["Disconnected", "bad"],
  unauthorized: ["Signed out", "bad"],
};

export class Presence {
  /** What the gateway last said (offline while not connected). */
  status: Availability = "offline";
  private readonly button = byId<HTMLButtonElement>("availability");

  /** `changed` runs after every change of {@link status} (empty states depend on it). */
  constructor(
    private readonly ctx: ConsoleContext,
    private readonly changed: () => void,
  ) {
    this.button.addEventListener("click", () => {
      ctx.alerts.unlock();
      void this.choose(this.status === "available" ? "away" : "available");
    });
  }

  /** Shows `s` on the control. */
  set(s: Availability): void {
    this.status = s;
    const b = this.button;
    b.value = s;
    b.textContent = s === "available" ? "Available" : s === "away" ? "Away" : "Offline";
    b.className = `availability ${s}`;
    b.disabled = s === "offline";
    b.title =
      s === "available"
        ? "You receive requests. Click to go away."
        : "You receive no requests. Click to become available.";
    this.changed();
  }

  /** Asks the gateway for `s` and remembers it for reloads. */
  async choose(s: "available" | "away"): Promise<void> {
    const client = this.ctx.client();
    if (!client) return;
    sessionStorage.setItem(WANT_KEY, s);
    try {
      const r = await client.setAvailability(s);
      this.set(r.status === "available" ? "available" : "away");
    } catch (err) {
      this.ctx.notices.show(`Could not change availability: ${reason(err)}`, "error");
    }
  }

  /** A `presence` event: shown, and explained when the gateway changed it on its own. */
  onPresence(p: EventPayload<VetEvents, "presence">): void {
    this.set(p.status);
    const text =
      p.reason && p.reason !== "connected"
        ? (PRESENCE_TEXT[p.reason] ?? `The gateway set you ${p.status} (${p.reason.replace(/_/g, " ")}).`)
        : undefined;
    if (p.status === "away" && p.reason === "offer_timeout") sessionStorage.setItem(WANT_KEY, "away");
    if (text) this.ctx.notices.show(text, "warn");
  }

  /** The connection indicator; on (re)connect the remembered availability is asked for again. */
  onConnection(s: ConnectionStatus): void {
    const [text, cls] = CONNECTION_TEXT[s];
    fill(byId("conn"), h("span", { class: `dot ${cls}` }), h("span", {}, text));
    if (s === "connected" && sessionStorage.getItem(WANT_KEY) === "available") void this.choose("available");
    if (s !== "connected") this.set("offline");
  }

  /** Sign-out: the next session starts away. */
  forget(): void {
    sessionStorage.removeItem(WANT_KEY);
  }
}
