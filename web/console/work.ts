/** The right-hand column: active consultations (owner, pet, Twilio details, call, end) and wrap-ups (feedback). */
import type { VetConsultationPayload } from "../../src/client/index.js";
import { fill, h } from "../shared/dom.js";
import { clock, field, personName } from "../shared/format.js";
import { petSummary } from "../shared/pet.js";
import { outcomeLabel } from "./outcomes.js";
import { adviceBanner, tagBadges } from "./tags.js";

export interface ActiveHandlers {
  startCall(id: string): void;
  end(id: string): void;
  /** "Refer" (PROTOCOL §10): opens the referral dialog. */
  refer(id: string): void;
  /** Withdraws the pending referral. */
  cancelReferral(id: string): void;
  /** A warm referral's first vet leaves the consultation. */
  leave(id: string): void;
}

/** Where the consultation's referral is, as its panel shows it. */
export type ReferralState = { kind: "pending" } | { kind: "leaving"; withName: string } | null;

const CALL_STATUS_TEXT: Record<string, string> = {
  ringing: "Ringing the owner…",
  accepted: "The owner answered the call.",
  declined: "The owner declined the call.",
  notanswered: "The owner did not answer.",
};

/**
 * The active consultation panel (with `chat`, the offline-mode chat panel, at its foot), with the emergency and language badges the payload carries
 * as its offer did (accept, `consult:assigned`, `consult:state` after a reload; `spoken`:
 * the vet's languages); `setCallStatus` updates its call line in place.
 */
export function consultationPanel(
  c: VetConsultationPayload,
  mode: "offline" | "live",
  spoken: readonly string[] | undefined,
  on: ActiveHandlers,
  chat: HTMLElement | null = null,
): { el: HTMLElement; setCallStatus(s: string): void; setReferral(r: ReferralState): void; media: HTMLElement } {
  const video = c.type === "video";
  const callLine = h("p", { class: "call-status", role: "status" });
  const media = h("div", { class: "media stack" });
  const end = h("button", { class: "danger", type: "button", "data-testid": "consultation-end" }, "End consultation");
  end.addEventListener("click", () => on.end(c.consultation_id));
  const refer = h("button", { type: "button", "data-testid": "transfer-open", "aria-haspopup": "dialog" }, "Refer");
  refer.addEventListener("click", () => on.refer(c.consultation_id));
  const leave = h(
    "button",
    { class: "danger", type: "button", "data-testid": "consultation-leave", hidden: true },
    "Leave",
  );
  leave.addEventListener("click", () => on.leave(c.consultation_id));
  const withdraw = h(
    "button",
    { class: "small", type: "button", "data-testid": "transfer-cancel" },
    "Withdraw referral",
  );
  withdraw.addEventListener("click", () => on.cancelReferral(c.consultation_id));
  const referralLine = h("div", {
    class: "notice referral row spread",
    "data-testid": "referral-status",
    role: "status",
    hidden: true,
  });
  let call: HTMLButtonElement | null = null;
  if (video) {
    call = h("button", { class: "primary", type: "button", "data-testid": "call-start" }, "Start video call");
    call.addEventListener("click", () => on.startCall(c.consultation_id));
  }
  const owner = personName(c.user);
  const el = h(
    "article",
    // tabindex -1: focus moves here after an accept, so the keyboard continues from the panel.
    {
      class: `panel consultation${c.emergency ? " emergency" : ""}`,
      "data-testid": "consultation",
      "data-consultation-id": c.consultation_id,
      "aria-label": `Consultation with ${owner}`,
      tabindex: -1,
    },
    h(
      "div",
      { class: "panel-title" },
      h(
        "div",
        { class: "row" },
        h("span", { class: "badge ok" }, "Active"),
        h("span", { class: `badge ${video ? "info" : "accent"}` }, video ? "Video" : "Chat"),
        ...tagBadges(c, spoken, "consultation"),
        h("span", { class: "title" }, `${field(c.pet, "name") || "Pet"} · ${owner}`),
      ),
      h("div", { class: "row" }, call, refer, end, leave),
    ),
    adviceBanner(c),
    referralLine,
    h(
      "div",
      { class: "two" },
      h(
        "div",
        { class: "stack" },
        h("h3", {}, "Pet"),
        petSummary(c.pet),
        h("dl", { class: "facts" }, ...fact("Colour", field(c.pet, "color")), ...fact("Sex", field(c.pet, "sex"))),
      ),
      h(
        "div",
        { class: "stack" },
        h("h3", {}, "Owner"),
        h("dl", { class: "facts" }, ...fact("Name", owner), ...fact("Email", field(c.user, "email"))),
      ),
    ),
    lazyPetHistory(petIdOf(c.pet), c.consultation_id),
    h(
      "details",
      { class: "twilio" },
      h("summary", {}, "Twilio details"),
      h(
        "dl",
        { class: "facts" },
        ...fact("Your identity", c.identity, true),
        ...fact("Owner identity", c.user_identity, true),
        ...fact("Channel", c.channel, true),
        ...fact("Consultation", c.consultation_id, true),
      ),
    ),
    // Offline mode: the gateway carries the chat itself (PROTOCOL §10); only video is simulated.
    mode === "offline" && video
      ? h(
          "p",
          { class: "notice" },
          "Offline mode: video is simulated. The gateway creates no Twilio room; the call status below comes from the owner's app.",
        )
      : null,
    video ? callLine : null,
    media,
    chat,
  );
  const setReferral = (r: ReferralState) => {
    referralLine.hidden = r === null;
    refer.hidden = r !== null;
    end.hidden = r?.kind === "leaving";
    leave.hidden = r?.kind !== "leaving";
    if (r?.kind === "pending")
      fill(referralLine, h("span", {}, "Referral pending: you keep the consultation until a vet accepts."), withdraw);
    else if (r?.kind === "leaving")
      fill(
        referralLine,
        h("span", {}, `Dr. ${r.withName} took over and is in the consultation with you. Leave when you are done.`),
      );
  };
  if (c.leaving) setReferral({ kind: "leaving", withName: c.vet.username });
  return {
    el,
    media,
    setReferral,
    setCallStatus(s) {
      callLine.textContent = CALL_STATUS_TEXT[s] ?? `Call: ${s}`;
      callLine.className = `call-status ${s === "accepted" ? "ok" : s === "ringing" ? "" : "warn"}`;
      if (!call) return;
      // The button says what the call is doing; it is usable again only when the owner did not pick up.
      const again = s === "declined" || s === "notanswered";
      call.disabled = !again;
      call.textContent = again ? "Call again" : s === "ringing" ? "Ringing…" : "Call in progress";
    },
  };
}

/** The pet's id of a payload's loosely typed pet, or null. */
function petIdOf(pet: Record<string, unknown> | null): number | null {
  const id = pet?.id;
  return typeof id === "number" && Number.isInteger(id) && id > 0 ? id : null;
}

function fact(label: string, value: string, mono = false): Node[] {
  if (!value) return [];
  return [h("dt", {}, label), h("dd", { class: mono ? "mono" : "" }, value)];
}

export interface WrapupHandlers {
  submit(id: string, recommendation: string, reason: string, outcome: string): Promise<void>;
  dismiss(id: string): void;
}

/**
 * Wrap-up: the feedback form with the wrap-up countdown; `tick` refreshes the countdown.
 * `outcomes`: the gateway's `OUTCOMES`, one of which the vet must choose (PROTOCOL §10).
 */
export function wrapupPanel(
  c: VetConsultationPayload,
  endedText: string,
  deadline: number,
  outcomes: readonly string[],
  on: WrapupHandlers,
): { el: HTMLElement; tick(): void } {
  const left = h("span", { class: "countdown", role: "timer" });
  const outcome = h(
    "select",
    { id: `outcome-${c.consultation_id}`, "data-testid": "feedback-outcome", required: true },
    h("option", { value: "" }, "Choose an outcome…"),
    ...outcomes.map((o) => h("option", { value: o }, outcomeLabel(o))),
  );
  const rec = h("textarea", {
    id: `rec-${c.consultation_id}`,
    "data-testid": "feedback-recommendation",
    required: true,
    rows: 3,
    maxlength: 2000,
  });
  const why = h("textarea", {
    id: `why-${c.consultation_id}`,
    "data-testid": "feedback-reason",
    required: true,
    rows: 3,
    maxlength: 2000,
  });
  const submit = h("button", { class: "primary", type: "submit", "data-testid": "feedback-submit" }, "Send feedback");
  const status = h("p", { class: "small", role: "status" });
  const skip = h("button", { class: "ghost", type: "button" }, "Close");
  skip.addEventListener("click", () => on.dismiss(c.consultation_id));
  const form = h(
    "form",
    { class: "stack", novalidate: true },
    h("div", {}, h("label", { for: outcome.id }, "Outcome"), outcome),
    h("div", {}, h("label", { for: rec.id }, "Recommendation"), rec),
    h("div", {}, h("label", { for: why.id }, "Reason"), why),
    h("div", { class: "row" }, submit, skip, status),
  );
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const missing = [
      !outcome.value && "an outcome",
      !rec.value.trim() && "a recommendation",
      !why.value.trim() && "a reason",
    ].filter(Boolean);
    for (const [f, bad] of [
      [outcome, !outcome.value],
      [rec, !rec.value.trim()],
      [why, !why.value.trim()],
    ] as const)
      f.setAttribute("aria-invalid", String(bad));
    if (missing.length > 0) {
      status.textContent = `Please give ${missing.join(" and ")}.`;
      status.className = "small warn-text";
      ([outcome, rec, why].find((f) => f.getAttribute("aria-invalid") === "true") ?? outcome).focus();
      return;
    }
    submit.disabled = true;
    status.textContent = "Sending…";
    status.className = "small muted";
    on.submit(c.consultation_id, rec.value.trim(), why.value.trim(), outcome.value).then(
      () => {
        status.textContent = "Feedback sent to the owner.";
        status.className = "small ok-text";
        submit.textContent = "Update feedback";
        submit.disabled = false;
        el.classList.add("sent");
        sent = true;
        tick();
      },
      (err: unknown) => {
        status.textContent = `Not sent: ${err instanceof Error ? err.message : String(err)}`;
        status.className = "small error-text";
        submit.disabled = false;
      },
    );
  });
  const el = h(
    "article",
    { class: "panel wrapup", "data-wrapup-id": c.consultation_id, "aria-label": `Wrap-up for ${personName(c.user)}` },
    h(
      "div",
      { class: "panel-title" },
      h(
        "div",
        { class: "row" },
        h("span", { class: "badge warn" }, "Wrap-up"),
        h("h3", {}, `${field(c.pet, "name") || "Pet"} · ${personName(c.user)}`),
      ),
      left,
    ),
    h("p", { class: "muted small" }, endedText),
    form,
  );
  // Feedback ends wrap-up on the server at once.
  let sent = false;
  const tick = () => {
    const ms = deadline - Date.now();
    left.textContent = !sent && ms > 0 ? `Wrap-up ends in ${clock(ms)}` : "Wrap-up over: new requests can reach you";
  };
  tick();
  return { el, tick };
}

/**
 * The pet history panel, loaded after the consultation is on screen: it fetches its data
 * anyway, and the console starts without its code (the page's JavaScript budget).
 */
function lazyPetHistory(petId: number | null, consultationId: string): HTMLElement {
  const slot = h("div", { class: "pet-history-slot" });
  void import("./pet-history.js").then(({ petHistoryPanel }) =>
    slot.replaceWith(petHistoryPanel(petId, consultationId)),
  );
  return slot;
}
