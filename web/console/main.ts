/**
 * The vet console: login, availability, offers, the active consultation, wrap-up and
 * feedback, on the typed client SDK. The server is the source of truth: a reload resumes
 * from `consult:state` and the re-sent `consult:offer`.
 */
import "../shared/base.css";
import "./console.css";
import { createVetClient, type ConnectionStatus, type VetClient, type VetConsultationPayload } from "../../src/client/index.js";
import { api, reason } from "../shared/api.js";
import { byId, fill, h } from "../shared/dom.js";
import { personName } from "../shared/format.js";
import { Alerts } from "./alerts.js";
import { offerCard, tickCountdowns, type Offer } from "./offers.js";
import { clearSession, currentToken, loadSession, login, type Session } from "./session.js";
import { consultationPanel, wrapupPanel } from "./work.js";
import type { LiveSession } from "./live.js";

interface ConsoleConfig {
  twilio_mode: "offline" | "live";
  wrapup_ms: number;
  offer_timeout_ms: number;
}

const WANT_KEY = "vet-console.availability";
const PRESENCE_TEXT: Record<string, string> = {
  offer_timeout: "You were set away: an offer timed out. Choose Available when you are ready.",
};

const alerts = new Alerts();
let client: VetClient | null = null;
let config: ConsoleConfig = { twilio_mode: "offline", wrapup_ms: 60_000, offer_timeout_ms: 30_000 };
let availability: "available" | "away" | "offline" = "away";
const offers = new Map<string, HTMLElement>();
const active = new Map<string, { data: VetConsultationPayload; el: HTMLElement; setCallStatus(s: string): void; media: HTMLElement; live: LiveSession[] }>();
const wrapups = new Map<string, { el: HTMLElement; tick(): void }>();
let queueTimer: ReturnType<typeof setInterval> | null = null;

const offersEl = byId("offers");
const workEl = byId("work");
const availabilityBtn = byId<HTMLButtonElement>("availability");

// ---------- login ----------

function showLogin(message?: string): void {
  byId("app-view").hidden = true;
  byId("login-view").hidden = false;
  const err = byId("login-error");
  err.hidden = !message;
  err.textContent = message ?? "";
  byId<HTMLInputElement>("login-email").focus();
}

byId<HTMLFormElement>("login-form").addEventListener("submit", (e) => {
  e.preventDefault();
  alerts.unlock();
  const email = byId<HTMLInputElement>("login-email").value.trim();
  const password = byId<HTMLInputElement>("login-password").value;
  if (!email || !password) return showLogin("Enter your email and password.");
  const submit = byId<HTMLButtonElement>("login-submit");
  submit.disabled = true;
  login(email, password).then(
    (s) => {
      byId<HTMLInputElement>("login-password").value = "";
      start(s);
    },
    (err: unknown) => showLogin(reason(err) === "Unauthenticated." ? "Email or password is not right." : reason(err)),
  ).finally(() => (submit.disabled = false));
});

byId("logout").addEventListener("click", () => {
  const c = client;
  client = null;
  c?.close();
  clearSession();
  sessionStorage.removeItem(WANT_KEY);
  location.reload();
});

// ---------- connection ----------

function start(s: Session): void {
  byId("login-view").hidden = true;
  byId("app-view").hidden = false;
  fill(byId("me-name"), `Dr. ${personName(s.vet as unknown as Record<string, unknown>)}`);
  const c = createVetClient({ url: location.origin, getToken: currentToken });
  client = c;
  c.onStatus(onStatus);
  c.on("presence", (p) => {
    setAvailability(p.status);
    const text = p.reason && p.reason !== "connected" ? (PRESENCE_TEXT[p.reason] ?? `The gateway set you ${p.status} (${p.reason.replace(/_/g, " ")}).`) : undefined;
    if (p.status === "away" && p.reason === "offer_timeout") sessionStorage.setItem(WANT_KEY, "away");
    if (text) banner(text, "warn");
  });
  c.on("consult:offer", (o) => addOffer(o));
  c.on("consult:offer_revoked", (r) => {
    if (!offers.has(r.consultation_id)) return;
    removeOffer(r.consultation_id);
    const why = { cancelled: "The owner cancelled the request.", timeout: "The request timed out.", taken: "Another vet took the request." }[r.reason];
    banner(why, "info", 6_000);
  });
  c.on("consult:assigned", (a) => {
    alerts.ring("New consultation", `${personName(a.user)} was assigned to you`);
    addActive(a);
  });
  c.on("consult:state", (st) => {
    removeOffer(st.consultation_id);
    addActive(st);
  });
  c.on("call:status", (cs) => active.get(cs.consultation_id)?.setCallStatus(cs.status));
  c.on("consult:ended", (e) => {
    const who = e.ended_by === "user" ? "The owner ended the consultation." : e.ended_by === "vet" ? "You ended the consultation." : `The consultation was ended by the system${e.reason ? ` (${e.reason})` : ""}.`;
    toWrapup(e.consultation_id, who);
  });
  pollQueue();
}

function onStatus(s: ConnectionStatus): void {
  const label: Record<ConnectionStatus, [string, string]> = {
    connecting: ["Connecting…", "warn"],
    connected: ["Connected", "ok"],
    reconnecting: ["Reconnecting…", "warn"],
    disconnected: ["Disconnected", "bad"],
    unauthorized: ["Signed out", "bad"],
  };
  const [text, cls] = label[s];
  fill(byId("conn"), h("span", { class: `dot ${cls}` }), h("span", {}, text));
  if (s === "connected" && sessionStorage.getItem(WANT_KEY) === "available") void choose("available");
  if (s !== "connected") setAvailability("offline");
  if (s === "disconnected" && client) {
    // Closed by the server (e.g. replaced by newer tabs): Socket.IO does not retry by itself.
    const again = h("button", { class: "small", type: "button" }, "Reconnect");
    again.addEventListener("click", () => {
      again.closest(".notice")?.remove();
      client?.connect();
    });
    banner("This console was disconnected by the gateway.", "warn", 0, again);
  }
  if (s === "unauthorized") {
    const c = client;
    client = null;
    c?.close();
    clearSession();
    showLogin("Your session has ended. Please sign in again.");
  }
}

// ---------- availability ----------

function setAvailability(s: "available" | "away" | "offline"): void {
  availability = s;
  availabilityBtn.value = s;
  availabilityBtn.textContent = s === "available" ? "Available" : s === "away" ? "Away" : "Offline";
  availabilityBtn.className = `availability ${s}`;
  availabilityBtn.disabled = s === "offline";
  availabilityBtn.title = s === "available" ? "You receive requests. Click to go away." : "You receive no requests. Click to become available.";
  renderEmpty();
}

async function choose(s: "available" | "away"): Promise<void> {
  if (!client) return;
  sessionStorage.setItem(WANT_KEY, s);
  try {
    const r = await client.setAvailability(s);
    setAvailability(r.status === "available" ? "available" : "away");
  } catch (err) {
    banner(`Could not change availability: ${reason(err)}`, "error");
  }
}

availabilityBtn.addEventListener("click", () => {
  alerts.unlock();
  void choose(availability === "available" ? "away" : "available");
});

const soundBtn = byId<HTMLButtonElement>("sound-toggle");
const notifyBtn = byId<HTMLButtonElement>("notify-toggle");
function renderToggles(): void {
  soundBtn.textContent = alerts.sound ? "Sound on" : "Sound off";
  soundBtn.setAttribute("aria-pressed", String(alerts.sound));
  notifyBtn.textContent = alerts.notify ? "Notifications on" : "Notifications off";
  notifyBtn.setAttribute("aria-pressed", String(alerts.notify));
}
soundBtn.addEventListener("click", () => {
  alerts.setSound(!alerts.sound);
  renderToggles();
});
notifyBtn.addEventListener("click", () => void alerts.setNotify(!alerts.notify).then(renderToggles));

// ---------- offers ----------

function addOffer(o: Offer): void {
  if (active.has(o.consultation_id)) return;
  const fresh = !offers.has(o.consultation_id);
  offers.get(o.consultation_id)?.remove();
  const card = offerCard(o, config.offer_timeout_ms, { accept: (id) => void accept(id), decline: (id) => void decline(id) });
  offers.set(o.consultation_id, card);
  offersEl.prepend(card);
  renderEmpty();
  if (fresh) alerts.ring(o.type === "video" ? "Video request" : "Chat request", `${personName(o.user)} is waiting`);
}

function removeOffer(id: string): void {
  offers.get(id)?.remove();
  offers.delete(id);
  renderEmpty();
}

async function accept(id: string): Promise<void> {
  if (!client) return;
  disableCard(id);
  try {
    const c = await client.accept(id);
    removeOffer(id);
    addActive(c);
  } catch (err) {
    removeOffer(id);
    banner(`Could not accept: ${reason(err)}`, "error", 8_000);
  }
}

async function decline(id: string): Promise<void> {
  if (!client) return;
  disableCard(id);
  try {
    await client.decline(id);
  } catch {
    /* the offer is gone either way */
  }
  removeOffer(id);
}

function disableCard(id: string): void {
  for (const b of offers.get(id)?.querySelectorAll("button") ?? []) b.disabled = true;
}

// ---------- active consultations and wrap-up ----------

function addActive(c: VetConsultationPayload): void {
  if (active.has(c.consultation_id)) return;
  // A new consultation clears finished wrap-ups (feedback sent) from view.
  for (const [id, w] of wrapups) {
    if (id === c.consultation_id || w.el.classList.contains("sent")) {
      w.el.remove();
      wrapups.delete(id);
    }
  }
  const panel = consultationPanel(c, config.twilio_mode, {
    startCall: (id) => void startCall(id),
    end: (id) => void endConsultation(id),
  });
  active.set(c.consultation_id, { data: c, ...panel, live: [] });
  workEl.prepend(panel.el);
  renderEmpty();
  if (config.twilio_mode === "live") void goLive(c.consultation_id, (m) => m.joinChat(c.twilioToken, c.channel, c.identity, panel.media));
}

async function goLive(id: string, join: (m: typeof import("./live.js")) => Promise<LiveSession>): Promise<void> {
  try {
    const session = await join(await import("./live.js"));
    const a = active.get(id);
    if (a) a.live.push(session);
    else session.close();
  } catch (err) {
    banner(`Twilio: ${reason(err)}`, "error");
  }
}

async function startCall(id: string): Promise<void> {
  if (!client) return;
  const a = active.get(id);
  try {
    const call = await client.startCall(id);
    a?.setCallStatus("ringing");
    if (config.twilio_mode === "live") void goLive(id, (m) => m.joinVideo(call.twilioToken, call.room_sid, a!.media));
  } catch (err) {
    banner(`Could not start the call: ${reason(err)}`, "error");
  }
}

async function endConsultation(id: string): Promise<void> {
  if (!client) return;
  try {
    await client.end(id);
    toWrapup(id, "You ended the consultation.");
  } catch (err) {
    banner(`Could not end: ${reason(err)}`, "error");
  }
}

function toWrapup(id: string, endedText: string): void {
  removeOffer(id);
  const a = active.get(id);
  if (!a || wrapups.has(id)) return;
  for (const s of a.live) s.close();
  a.el.remove();
  active.delete(id);
  const w = wrapupPanel(a.data, endedText, Date.now() + config.wrapup_ms, {
    submit: async (cid, rec, why) => {
      if (!client) throw new Error("not connected");
      await client.sendFeedback(cid, rec, why);
    },
    dismiss: (cid) => {
      wrapups.get(cid)?.el.remove();
      wrapups.delete(cid);
      renderEmpty();
    },
  });
  wrapups.set(id, w);
  workEl.prepend(w.el);
  renderEmpty();
  w.el.querySelector("textarea")?.focus();
}

// ---------- empty states, banners, queue ----------

function renderEmpty(): void {
  offersEl.querySelector(".empty")?.remove();
  if (offers.size === 0) {
    const text = availability === "available" ? "No requests right now. New ones appear here with a sound." : availability === "away" ? "You are away. Choose Available to receive requests." : "Waiting for the connection…";
    offersEl.append(h("p", { class: "empty" }, text));
  }
  fill(byId("offer-count"), offers.size ? String(offers.size) : "");
  workEl.querySelector(".empty")?.remove();
  if (active.size === 0 && wrapups.size === 0) workEl.append(h("p", { class: "empty" }, "No active consultation. Accept a request to start one."));
}

function banner(text: string, kind: "info" | "warn" | "error", ttlMs = 0, action?: HTMLElement): void {
  const close = h("button", { class: "ghost small", type: "button", "aria-label": "Dismiss" }, "Dismiss");
  const el = h("div", { class: `notice ${kind}`, role: kind === "error" ? "alert" : "status" }, h("span", {}, text), h("span", { class: "row" }, action, close));
  close.addEventListener("click", () => el.remove());
  byId("banners").append(el);
  if (ttlMs) setTimeout(() => el.remove(), ttlMs);
}

function pollQueue(): void {
  const read = async () => {
    const s = loadSession();
    if (!s || document.hidden) return;
    try {
      const q = await api<{ queue_length: number; vets_available: number }>("GET", "/vet/v1/queue", { bearer: s.token });
      const el = byId("queue");
      el.dataset.value = String(q.queue_length);
      fill(el, h("strong", {}, String(q.queue_length)), q.queue_length === 1 ? " waiting" : " waiting", h("span", { class: "muted" }, ` · ${q.vets_available} vet${q.vets_available === 1 ? "" : "s"} available`));
    } catch {
      /* shown as stale; the next poll retries */
    }
  };
  void read();
  if (queueTimer) clearInterval(queueTimer);
  queueTimer = setInterval(() => void read(), 5_000);
}

setInterval(() => {
  tickCountdowns(offersEl);
  for (const w of wrapups.values()) w.tick();
}, 250);

// ---------- boot ----------

renderToggles();
setAvailability("offline");
void api<ConsoleConfig>("GET", "/vet/v1/config")
  .then((c) => (config = c))
  .catch(() => undefined)
  .finally(() => {
    if (config.twilio_mode === "offline") byId("mode").hidden = false;
    const s = loadSession();
    if (s) start(s);
    else showLogin();
  });
