/**
 * The owner demo (DEMO=1): plays a partner app. Pick an owner and a pet, request a chat or
 * a video consultation, follow the queue, the match, the call, the end and the feedback.
 */
import "../shared/base.css";
import "./demo.css";
import {
  createOwnerClient,
  type ChatMessage,
  type ConnectionStatus,
  type FeedbackPayload,
  type LanguageCode,
  type OwnerClient,
  type VetCard,
} from "../../src/client/index.js";
import { api, reason } from "../shared/api.js";
import { chatPanel, type ChatPanel } from "../shared/chat.js";
import { byId, fill, h } from "../shared/dom.js";
import { clock, languageName, personName, wait } from "../shared/format.js";
import { avatar, petLine } from "../shared/pet.js";

interface DemoPet {
  id: number;
  name: string;
  species?: string | null;
  breed?: string | null;
  age?: string | null;
  weight?: string | null;
}
interface DemoOwner {
  email: string;
  first_name: string;
  last_name?: string | null;
  region?: string | null;
  pets: DemoPet[];
}

interface Consult {
  id: string;
  type: "chat" | "video";
  phase: "queued" | "matched" | "ended" | "expired";
  position?: number;
  waitS?: number;
  requeued?: boolean;
  /** What this page asked for (not in the gateway's answers): shown while waiting. */
  asked?: { language?: string; emergency?: boolean };
  /** `advice`: general advice only; `fellBack`: no licensed vet was found in time (PROTOCOL §4). */
  care?: "treatment" | "advice";
  fellBack?: boolean;
  vet?: VetCard;
  /** Another vet took over (a referral, PROTOCOL §10): `vet` is the new one. */
  transferred?: boolean;
  channel?: string;
  call?: { room_sid: string; vet: VetCard; answered?: "accepted" | "declined" | "notanswered"; since: number };
  endedBy?: string;
  feedback?: FeedbackPayload;
}

/** How long an unanswered call rings before the app reports `notanswered`. */
const RING_MS = 30_000;

let owners: DemoOwner[] = [];
let client: OwnerClient | null = null;
let consult: Consult | null = null;
let ringTimer: ReturnType<typeof setTimeout> | null = null;
/** `offline`: the gateway carries the chat (PROTOCOL §10) and this page shows it; `live`: Twilio would. */
let twilioMode: "offline" | "live" = "offline";
/** The chat of the current consultation (offline mode), kept across renders so a draft survives them. */
let chat: { id: string; panel: ChatPanel } | null = null;

/** The chat of the matched consultation `id`, open for sending. */
function openChat(id: string): HTMLElement | null {
  const panel = chatFor(id);
  panel?.open();
  return panel?.el ?? null;
}

/** The conversation of `id` so far, read-only with `why`, or null when there is none. */
function pausedChat(id: string, why: string): HTMLElement | null {
  if (chat?.id !== id || chat.panel.size === 0) return null;
  chat.panel.close(why);
  return chat.panel.el;
}

/** The chat panel of consultation `id`, made once; messages already known are added. */
function chatFor(id: string, messages: readonly ChatMessage[] = []): ChatPanel | null {
  if (twilioMode !== "offline") return null;
  if (chat?.id !== id) {
    chat = {
      id,
      panel: chatPanel({
        id,
        mine: (m) => m.author === "owner",
        other: "the vet",
        send: (text) => (client ? client.sendChat(id, text) : Promise.reject(new Error("not connected"))),
      }),
    };
  }
  chat.panel.add(messages);
  return chat.panel;
}

const ownerSel = byId<HTMLSelectElement>("owner");
const petSel = byId<HTMLSelectElement>("pet");
const statusEl = byId("status");

function currentOwner(): DemoOwner | undefined {
  return owners.find((o) => o.email === ownerSel.value);
}

function renderPets(): void {
  const o = currentOwner();
  fill(
    petSel,
    ...(o?.pets ?? []).map((p) =>
      h(
        "option",
        { value: p.id },
        `${p.name}${petLine(p as unknown as Record<string, unknown>) ? ` (${petLine(p as unknown as Record<string, unknown>)})` : ""}`,
      ),
    ),
  );
}

function connectOwner(): void {
  client?.close();
  consult = null;
  render();
  const o = currentOwner();
  if (!o) return;
  const c = createOwnerClient({
    url: location.origin,
    getToken: () =>
      api<{ token: string; expires_at: string }>("POST", "/demo/v1/owner-token", { body: { email: o.email } }),
  });
  client = c;
  chat = null;
  c.onStatus(onStatus);
  // Added in place, never re-rendered: a message being typed stays as it is.
  c.on("chat:message", (m) => {
    if (consult?.id === m.consultation_id) chatFor(m.consultation_id)?.add([m.message]);
  });
  c.on("consult:queued", (q) => {
    const same = consult?.id === q.consultation_id ? consult : null;
    consult = {
      ...(same ?? { id: q.consultation_id, type: "chat" }),
      phase: "queued",
      position: q.position,
      waitS: q.estimated_wait_s,
      requeued: q.reason === "vet_left",
      ...(q.care === "advice" ? { care: "advice" as const } : {}),
      ...(q.reason === "no_licensed_vet" || same?.fellBack ? { fellBack: true } : {}),
    };
    render();
  });
  c.on("consult:matched", (m) => {
    const care = consult?.id === m.consultation_id ? consult.care : undefined;
    consult = {
      id: m.consultation_id,
      type: m.type,
      phase: "matched",
      vet: m.vet,
      channel: m.channel,
      ...(care ? { care } : {}),
    };
    render();
  });
  c.on("consult:transferred", (t) => {
    if (!consult || consult.id !== t.consultation_id) return;
    consult.vet = t.vet;
    consult.transferred = true;
    render();
  });
  c.on("call:incoming", (ci) => {
    if (!consult || consult.id !== ci.consultation_id) return;
    consult.call = { room_sid: ci.room_sid, vet: ci.vet, since: Date.now() };
    if (ringTimer) clearTimeout(ringTimer);
    ringTimer = setTimeout(() => void answer("notanswered"), RING_MS);
    render();
  });
  c.on("consult:ended", (e) => {
    if (consult?.id !== e.consultation_id) return;
    consult.phase = "ended";
    consult.endedBy = e.ended_by;
    stopRinging();
    render();
  });
  c.on("consult:expired", (e) => {
    if (consult?.id === e.consultation_id) consult.phase = "expired";
    render();
  });
  c.on("consult:feedback", (f) => {
    if (!consult || consult.id !== f.consultation_id) consult = { id: f.consultation_id, type: f.type, phase: "ended" };
    consult.feedback = f;
    render();
  });
  c.on("consult:state", (s) => {
    consult = {
      id: s.consultation_id,
      type: s.type,
      phase: s.status === "active" ? "matched" : "queued",
      ...(s.position !== undefined ? { position: s.position } : {}),
      ...(s.estimated_wait_s !== undefined ? { waitS: s.estimated_wait_s } : {}),
      ...(s.vet ? { vet: s.vet } : {}),
      ...(s.channel ? { channel: s.channel } : {}),
      ...(s.care ? { care: s.care } : {}),
    };
    if (s.messages) chatFor(s.consultation_id, s.messages);
    render();
  });
}

function onStatus(s: ConnectionStatus): void {
  const cls = s === "connected" ? "ok" : s === "connecting" || s === "reconnecting" ? "warn" : "bad";
  const text = {
    connecting: "Connecting…",
    connected: "Connected",
    reconnecting: "Reconnecting…",
    disconnected: "Not connected",
    unauthorized: "Refused",
  }[s];
  fill(byId("conn"), h("span", { class: `dot ${cls}` }), h("span", {}, text));
}

async function request(type: "chat" | "video"): Promise<void> {
  const err = byId("ask-error");
  err.hidden = true;
  const petId = Number(petSel.value);
  if (!client || !petId) return;
  const doctor = byId<HTMLInputElement>("doctor").value.trim();
  // The select offers only ISO 639-1 codes (index.html), or "" for no preference.
  const language = byId<HTMLSelectElement>("language").value as LanguageCode | "";
  const emergency = byId<HTMLInputElement>("emergency").checked;
  const region = byId<HTMLSelectElement>("region").value;
  const care = byId<HTMLSelectElement>("care").value === "advice" ? "advice" : "treatment";
  const fallback = byId<HTMLInputElement>("advice-fallback").checked;
  try {
    const r = await client.request({
      conversation_request: type,
      pet_id: petId,
      ...(doctor ? { doctor_email: doctor } : {}),
      ...(language ? { language } : {}),
      ...(emergency ? { emergency: true } : {}),
      ...(region ? { region } : {}),
      care,
      ...(care === "treatment" && fallback ? { advice_fallback: true } : {}),
    });
    if (!consult || consult.id !== r.consultation_id || consult.phase === "ended" || consult.phase === "expired") {
      consult = {
        id: r.consultation_id,
        type,
        phase: r.status === "active" ? "matched" : "queued",
        position: r.position,
      };
    } else consult.type = type;
    consult.care ??= care;
    // A second request gets the open consultation back: it keeps what was first asked.
    consult.asked ??= { language, emergency };
    render();
  } catch (e) {
    err.textContent = reason(e);
    err.hidden = false;
  }
}

async function answer(status: "accepted" | "declined" | "notanswered"): Promise<void> {
  const call = consult?.call;
  if (!client || !call) return;
  stopRinging();
  call.answered = status;
  render();
  try {
    await client.callStatus(call.room_sid, status);
  } catch (e) {
    showError(`Could not send the call status: ${reason(e)}`);
  }
}

function stopRinging(): void {
  if (ringTimer) clearTimeout(ringTimer);
  ringTimer = null;
}

function showError(text: string): void {
  const err = byId("ask-error");
  err.textContent = text;
  err.hidden = false;
}

function button(label: string, attrs: Record<string, string>, onClick: () => void): HTMLButtonElement {
  const b = h("button", { type: "button", ...attrs }, label);
  b.addEventListener("click", onClick);
  return b;
}

function steps(phase: Consult["phase"] | null): HTMLElement {
  const order = ["queued", "matched", "ended"] as const;
  const names = { queued: "Waiting", matched: "With a vet", ended: "Done" };
  return h(
    "div",
    { class: "steps", "aria-hidden": "true" },
    ...order.map((p) => h("span", { class: p === phase ? "on" : "" }, names[p])),
  );
}

function render(): void {
  const c = consult;
  byId<HTMLButtonElement>("request-chat").disabled = !!c && (c.phase === "queued" || c.phase === "matched");
  byId<HTMLButtonElement>("request-video").disabled = !!c && (c.phase === "queued" || c.phase === "matched");
  if (!c) {
    fill(statusEl, h("p", { class: "empty" }, "Choose an owner and a pet, then request a chat or a video call."));
    return;
  }
  const blocks: HTMLElement[] = [];
  if (c.phase === "queued") {
    blocks.push(
      h(
        "div",
        { class: "panel status-card" },
        steps("queued"),
        h(
          "div",
          { "data-testid": "queue-position" },
          h(
            "div",
            { class: "muted small" },
            c.requeued
              ? "Your vet left; you are first in line again"
              : `Waiting for a vet (${[c.type, c.asked?.emergency ? "emergency" : "", c.asked?.language ? languageName(c.asked.language) : ""].filter(Boolean).join(" · ")})`,
          ),
          h("div", { class: "big" }, c.position ? `#${c.position} in the queue` : "Being offered to a vet…"),
          c.fellBack
            ? h(
                "p",
                { class: "notice warn", "data-testid": "care-fallback" },
                "No vet licensed where your pet is was free in time: your request is now for general advice, from any vet.",
              )
            : null,
          c.waitS !== undefined ? h("div", { class: "muted" }, `Estimated wait: ${wait(c.waitS)}`) : null,
        ),
        // Waiting again after the vet left: the conversation so far stays in view.
        pausedChat(c.id, "The chat continues when the next vet joins."),
        h(
          "div",
          { class: "row" },
          button(
            "Cancel request",
            { class: "danger" },
            () =>
              void client?.cancel(c.id).then(
                () => {
                  consult = null;
                  render();
                },
                (e: unknown) => showError(reason(e)),
              ),
          ),
        ),
      ),
    );
  }
  if (c.phase === "matched" && c.vet) {
    blocks.push(
      h(
        "div",
        { class: "panel status-card" },
        steps("matched"),
        h(
          "div",
          { class: "vet", "data-testid": "matched" },
          avatar(c.vet.profile_image, c.vet.username, "round"),
          h(
            "div",
            {},
            h("div", { class: "muted small" }, "You are talking to"),
            h("div", { class: "vet-name" }, c.vet.username),
          ),
        ),
        c.transferred
          ? h(
              "p",
              { class: "notice ok", "data-testid": "transferred", role: "status" },
              `Your vet referred you: ${c.vet.username} has taken over your consultation.`,
            )
          : null,
        c.care === "advice"
          ? h(
              "p",
              { class: "notice", "data-testid": "care-advice" },
              "General advice only: the vet cannot diagnose or prescribe here.",
            )
          : null,
        twilioMode === "offline"
          ? c.type === "video"
            ? h(
                "p",
                { class: "notice" },
                "The vet will call you here. Video is simulated in this demo; the chat below is real.",
              )
            : null
          : h(
              "p",
              { class: "notice" },
              "A real app joins the Twilio Conversation below with the owner's own Twilio token.",
            ),
        c.channel && twilioMode === "live"
          ? h("p", { class: "small muted" }, "Conversation ", h("span", { class: "mono" }, c.channel))
          : null,
        openChat(c.id),
        h(
          "div",
          { class: "row" },
          button(
            "End consultation",
            { class: "danger", "data-testid": "owner-end" },
            () => void client?.end(c.id).catch((e: unknown) => showError(reason(e))),
          ),
        ),
      ),
    );
  }
  if (c.call && c.phase === "matched") {
    const call = c.call;
    blocks.push(
      call.answered
        ? h(
            "p",
            { class: `notice ${call.answered === "accepted" ? "ok" : "warn"}` },
            call.answered === "accepted"
              ? "Call answered (simulated video)."
              : call.answered === "declined"
                ? "You declined the call."
                : "Missed call.",
          )
        : h(
            "div",
            {
              class: "panel status-card ringing",
              "data-testid": "call-incoming",
              role: "alertdialog",
              "aria-label": "Incoming video call",
            },
            h(
              "div",
              { class: "vet" },
              avatar(call.vet.profile_image, call.vet.username, "round"),
              h(
                "div",
                {},
                h("div", { class: "muted small" }, `Incoming video call · rings for ${clock(RING_MS)}`),
                h("div", { class: "vet-name" }, call.vet.username),
              ),
            ),
            h(
              "div",
              { class: "row" },
              button("Answer", { class: "primary" }, () => void answer("accepted")),
              button("Decline", { class: "danger" }, () => void answer("declined")),
            ),
          ),
    );
  }
  if (c.phase === "ended") {
    const by =
      c.endedBy === "user"
        ? "You ended the consultation."
        : c.endedBy === "vet"
          ? "The vet ended the consultation."
          : "The consultation has ended.";
    // The conversation stays readable after the end; nothing more can be sent.
    blocks.push(
      h(
        "div",
        { class: "panel status-card" },
        steps("ended"),
        h("p", {}, by),
        c.feedback ? null : h("p", { class: "muted" }, "Waiting for the vet's notes…"),
        pausedChat(c.id, "The consultation has ended."),
      ),
    );
  }
  if (c.phase === "expired")
    blocks.push(h("p", { class: "notice warn" }, "No vet was free in time. Please try again."));
  if (c.feedback) {
    const f = c.feedback;
    blocks.push(
      h(
        "div",
        { class: "panel status-card feedback", "data-testid": "feedback-received" },
        h("h3", {}, `Notes from Dr. ${personName({ first_name: f.vet_first_name, last_name: f.vet_last_name })}`),
        h("div", {}, h("div", { class: "muted small" }, "Recommendation"), h("blockquote", {}, f.recommendation)),
        h("div", {}, h("div", { class: "muted small" }, "Reason"), h("blockquote", {}, f.reason)),
        h("div", { class: "muted small" }, new Date(f.feedback_date).toLocaleString()),
      ),
    );
  }
  fill(statusEl, ...blocks);
  if (chat?.id === c.id) chat.panel.scrollToEnd();
}

byId("request-chat").addEventListener("click", () => void request("chat"));
byId("request-video").addEventListener("click", () => void request("video"));
ownerSel.addEventListener("change", () => {
  renderPets();
  sessionStorage.setItem("demo.owner", ownerSel.value);
  connectOwner();
});

render();
// Suggestions for the preferred vet (the demo's seeded vets).
// Each vet's skills are in the label, so the routing the demo shows can be followed.
api<
  {
    email: string;
    first_name: string;
    last_name: string;
    species?: string[];
    languages?: string[];
    licenses?: string[];
  }[]
>("GET", "/demo/v1/vets").then(
  (vets) =>
    fill(
      byId("vets"),
      ...vets.map((v) => {
        const species = v.species?.length ? v.species.join(", ") : "every species";
        const licensed = v.licenses?.length ? ` · licensed ${v.licenses.join(", ")}` : "";
        return h(
          "option",
          { value: v.email },
          `Dr. ${v.first_name} ${v.last_name} · ${species} · ${(v.languages ?? []).join(", ")}${licensed}`,
        );
      }),
    ),
  () => undefined,
);
const modeKnown = api<{ twilio_mode: "offline" | "live" }>("GET", "/vet/v1/config").then(
  (c) => void (twilioMode = c.twilio_mode),
  () => undefined,
);
api<DemoOwner[] | { owners: DemoOwner[] }>("GET", "/demo/v1/owners").then(
  (d) => {
    owners = Array.isArray(d) ? d : d.owners;
    fill(
      ownerSel,
      ...owners.map((o) =>
        h(
          "option",
          { value: o.email },
          `${personName(o as unknown as Record<string, unknown>)} · ${o.email}${o.region ? ` · ${o.region}` : ""}`,
        ),
      ),
    );
    const saved = sessionStorage.getItem("demo.owner");
    if (saved && owners.some((o) => o.email === saved)) ownerSel.value = saved;
    renderPets();
    void modeKnown.then(connectOwner);
  },
  (e: unknown) => showError(`Could not load the demo owners: ${reason(e)}`),
);
