/**
 * The vet console: login, availability, offers, the active consultation, wrap-up and
 * feedback, on the typed client SDK. The server is the source of truth: a reload resumes
 * from `consult:state` and the re-sent `consult:offer`. This file wires the parts together;
 * each part owns its state (offer-list, active, wrapups, presence, queue-bar, notices).
 */
import "../shared/base.css";
import "./console.css";
import {
  createVetClient,
  type ConnectionStatus,
  type VetClient,
  type VetConsultationPayload,
} from "../../src/client/index.js";
import { api } from "../shared/api.js";
import { byId, fill, h } from "../shared/dom.js";
import { personName } from "../shared/format.js";
import { ActiveConsultations } from "./active.js";
import { Alerts } from "./alerts.js";
import type { ConsoleConfig, ConsoleContext } from "./context.js";
import { showLogin, wireLogin } from "./login.js";
import { alertToggles, Notices } from "./notices.js";
import { OfferList } from "./offer-list.js";
import { Presence } from "./presence.js";
import { QueueBar } from "./queue-bar.js";
import { clearSession, currentToken, loadSession, type Session } from "./session.js";
import { renderSkills } from "./skills.js";
import { Wrapups } from "./wrapups.js";

let client: VetClient | null = null;
const ctx: ConsoleContext = {
  config: { twilio_mode: "offline", wrapup_ms: 60_000, offer_timeout_ms: 30_000 },
  client: () => client,
  alerts: new Alerts(),
  notices: new Notices(),
  vet: null,
};

const workEl = byId("work");
const refresh = () => {
  offers.render(presence.status);
  workEl.querySelector(".empty")?.remove();
  if (active.size === 0 && wrapups.size === 0)
    workEl.append(h("p", { class: "empty" }, "No active consultation. Accept a request to start one."));
};
const wrapups = new Wrapups(ctx, workEl, refresh);
const active = new ActiveConsultations(ctx, workEl, {
  ended: (id, text) => toWrapup(id, text),
  handedOver: (id) => {
    active.take(id);
    refresh();
  },
  changed: refresh,
});
const offers = new OfferList(ctx, {
  isActive: (id) => active.has(id),
  accepted: (c) => activate(c, true),
  changed: () => {
    refresh();
    queue.poke();
  },
});
const presence = new Presence(ctx, refresh);
const queue = new QueueBar();

function activate(c: VetConsultationPayload, focus = false): void {
  // Already open (a reconnect): only what it brings anew (chat messages) is taken.
  if (active.has(c.consultation_id)) {
    active.add(c);
    return;
  }
  wrapups.clearFinished(c.consultation_id);
  active.add(c, focus);
}

function toWrapup(id: string, endedText: string): void {
  offers.remove(id);
  if (wrapups.has(id)) return;
  const chat = active.transcript(id);
  const data = active.take(id);
  if (data) wrapups.open(data, endedText, chat);
}

function start(s: Session): void {
  byId("login-view").hidden = true;
  byId("app-view").hidden = false;
  ctx.vet = s.vet;
  fill(byId("me-name"), `Dr. ${personName(s.vet as unknown as Record<string, unknown>)}`);
  renderSkills(byId("me-skills"), s.vet, ctx.config.vet_max_consults, ctx.config.licensing === true);
  const c = createVetClient({ url: location.origin, getToken: currentToken });
  client = c;
  c.onStatus(onStatus);
  c.on("presence", (p) => presence.onPresence(p));
  c.on("consult:offer", (o) => offers.add(o));
  c.on("consult:offer_revoked", (r) => offers.revoked(r));
  c.on("consult:assigned", (a) => {
    ctx.alerts.ring("New consultation", `${personName(a.user)} was assigned to you`);
    activate(a);
  });
  c.on("consult:state", (st) => {
    offers.remove(st.consultation_id);
    activate(st);
  });
  c.on("call:status", (cs) => active.callStatus(cs));
  c.on("chat:message", (m) => active.chatMessage(m));
  c.on("consult:transferred", (t) => active.transferred(t));
  c.on("consult:transfer_failed", (f) => active.transferFailed(f));
  // An operator disabled the vet or changed the password: this session is over for good.
  c.on("session:closed", (p) => {
    if (p.reason === "revoked")
      signOut("Your session was ended by an operator (password changed or account disabled). Please sign in again.");
  });
  c.on("consult:ended", (e) => {
    // A warm referral's first vet: the end and the feedback belong to the vet holding it last.
    if (active.isLeaving(e.consultation_id)) {
      active.take(e.consultation_id);
      refresh();
      return;
    }
    const who =
      e.ended_by === "user"
        ? "The owner ended the consultation."
        : e.ended_by === "vet"
          ? "You ended the consultation."
          : `The consultation was ended by the system${e.reason ? ` (${e.reason})` : ""}.`;
    toWrapup(e.consultation_id, who);
  });
  queue.start();
}

function onStatus(s: ConnectionStatus): void {
  presence.onConnection(s);
  if (s === "disconnected" && client) {
    // Closed by the server (e.g. replaced by newer tabs): Socket.IO does not retry by itself.
    const again = h("button", { class: "small", type: "button" }, "Reconnect");
    again.addEventListener("click", () => {
      again.closest(".notice")?.remove();
      client?.connect();
    });
    ctx.notices.show("This console was disconnected by the gateway.", "warn", 0, again);
  }
  if (s === "unauthorized") signOut("Your session has ended. Please sign in again.");
}

function signOut(why: string): void {
  const c = client;
  client = null;
  c?.close();
  clearSession();
  showLogin(why);
}

wireLogin(ctx.alerts, start);
byId("logout").addEventListener("click", () => {
  const c = client;
  client = null;
  c?.close();
  clearSession();
  presence.forget();
  location.reload();
});
alertToggles(ctx.alerts);
presence.set("offline");

setInterval(() => {
  offers.tick();
  wrapups.tick();
  queue.render();
}, 250);

void api<ConsoleConfig>("GET", "/vet/v1/config")
  .then((c) => (ctx.config = c))
  .catch(() => undefined)
  .finally(() => {
    if (ctx.config.twilio_mode === "offline") byId("mode-note").hidden = false;
    const s = loadSession();
    if (s) start(s);
    else showLogin();
  });
