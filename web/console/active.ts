/**
 * Active consultations: their panels in the "Consultation" column, the call status of video
 * ones, and in live Twilio mode the joined Conversation and Video room (closed when the
 * consultation leaves this list).
 */
import type {
  ChatMessageEventPayload,
  EventPayload,
  VetConsultationPayload,
  VetEvents,
} from "../../src/client/index.js";
import { reason } from "../shared/api.js";
import { chatPanel, type ChatPanel } from "../shared/chat.js";
import type { ConsoleContext } from "./context.js";
import type { LiveSession } from "./live.js";
import { personName } from "../shared/format.js";
import { TRANSFER_FAILED_TEXT } from "./referral.js";
import { consultationPanel, type ReferralState } from "./work.js";

interface Entry {
  data: VetConsultationPayload;
  el: HTMLElement;
  media: HTMLElement;
  setCallStatus(s: string): void;
  setReferral(r: ReferralState): void;
  live: LiveSession[];
  /** Offline mode: the chat the gateway carries (PROTOCOL §10). */
  chat: ChatPanel | null;
}

export interface ActiveHooks {
  /** The vet ended it here (the gateway confirmed). */
  ended(id: string, text: string): void;
  /** The vet no longer holds it (referred cold, or left a warm referral): gone without wrap-up. */
  handedOver(id: string): void;
  /** A consultation was added. */
  changed(): void;
}

export class ActiveConsultations {
  private readonly open = new Map<string, Entry>();

  constructor(
    private readonly ctx: ConsoleContext,
    private readonly root: HTMLElement,
    private readonly hooks: ActiveHooks,
  ) {}

  get size(): number {
    return this.open.size;
  }

  has(id: string): boolean {
    return this.open.has(id);
  }

  /** This vet is a warm referral's first vet of `id` (it may only leave it). */
  isLeaving(id: string): boolean {
    return this.open.get(id)?.data.leaving === true;
  }

  /**
   * An accepted, assigned or resumed consultation; in live mode the console joins its
   * Conversation. `focus`: the vet just accepted it here, so the keyboard moves to it.
   */
  add(c: VetConsultationPayload, focus = false): void {
    const known = this.open.get(c.consultation_id);
    if (known) {
      // Resumed after a reconnect: messages sent meanwhile come with it.
      known.chat?.add(c.messages ?? []);
      return;
    }
    const mode = this.ctx.config.twilio_mode;
    const id = c.consultation_id;
    const chat =
      mode === "offline"
        ? chatPanel({
            id,
            mine: (m) =>
              m.author === "vet" &&
              m.author_name === `${this.ctx.vet?.first_name ?? ""} ${this.ctx.vet?.last_name ?? ""}`.trim(),
            other: "the owner",
            send: (text) => {
              const client = this.ctx.client();
              return client ? client.sendChat(id, text) : Promise.reject(new Error("not connected"));
            },
          })
        : null;
    const panel = consultationPanel(
      c,
      mode,
      this.ctx.vet?.languages,
      {
        startCall: (cid) => void this.startCall(cid),
        end: (cid) => void this.end(cid),
        refer: (id) => void this.openReferral(id),
        cancelReferral: (id) => void this.cancelReferral(id),
        leave: (id) => void this.leave(id),
      },
      chat?.el ?? null,
    );
    this.open.set(c.consultation_id, { data: c, ...panel, live: [], chat });
    this.root.prepend(panel.el);
    this.hooks.changed();
    if (focus) panel.el.focus();
    // After the panel is in the page, so the list scrolls to the newest message.
    chat?.add(c.messages ?? []);
    if (mode === "live")
      void this.goLive(c.consultation_id, (m) =>
        m.joinChat(c.twilioToken, c.channel, c.identity, panel.media, () => this.twilioToken()),
      );
  }

  /** `chat:message` (offline mode): a message in one of the open consultations. */
  chatMessage(p: ChatMessageEventPayload): void {
    this.open.get(p.consultation_id)?.chat?.add([p.message]);
  }

  /** `call:status` from the owner's app. */
  callStatus(cs: EventPayload<VetEvents, "call:status">): void {
    this.open.get(cs.consultation_id)?.setCallStatus(cs.status);
  }

  /** The offline-mode chat of an open consultation (kept for its wrap-up), or null. */
  transcript(id: string): ChatPanel | null {
    return this.open.get(id)?.chat ?? null;
  }

  /** `consult:transferred` (PROTOCOL §10): a vet accepted this vet's referral. */
  transferred(t: EventPayload<VetEvents, "consult:transferred">): void {
    const a = this.open.get(t.consultation_id);
    if (!a) return;
    if (t.mode === "cold") {
      this.ctx.notices.show(
        `Dr. ${t.vet.username} accepted your referral and took over the consultation.`,
        "info",
        15_000,
      );
      this.hooks.handedOver(t.consultation_id);
    } else {
      a.data = { ...a.data, leaving: true };
      a.setReferral({ kind: "leaving", withName: t.vet.username });
    }
  }

  /** `consult:transfer_failed`: the vet keeps the consultation. */
  transferFailed(f: EventPayload<VetEvents, "consult:transfer_failed">): void {
    this.open.get(f.consultation_id)?.setReferral(null);
    this.ctx.notices.show(
      `Referral failed: ${TRANSFER_FAILED_TEXT[f.reason] ?? f.reason} You keep the consultation.`,
      "warn",
    );
  }

  private async openReferral(id: string): Promise<void> {
    const a = this.open.get(id);
    if (!a) return;
    let dialog = a.el.querySelector<HTMLDialogElement>("dialog.referral-dialog");
    if (!dialog) {
      // Loaded on first use: the console starts without it (its JavaScript budget).
      const { referralDialog } = await import("./referral-dialog.js");
      dialog =
        a.el.querySelector<HTMLDialogElement>("dialog.referral-dialog") ??
        referralDialog(id, personName(a.data.user), async (r) => {
          const client = this.ctx.client();
          if (!client) throw new Error("not connected");
          await client.transfer(id, r.to, { note: r.note, mode: r.mode });
          this.open.get(id)?.setReferral({ kind: "pending" });
        });
      a.el.append(dialog);
    }
    dialog.showModal();
  }

  private async cancelReferral(id: string): Promise<void> {
    try {
      await this.ctx.client()?.cancelTransfer(id);
      this.open.get(id)?.setReferral(null);
    } catch (err) {
      this.ctx.notices.show(`Could not withdraw the referral: ${reason(err)}`, "error");
    }
  }

  private async leave(id: string): Promise<void> {
    try {
      await this.ctx.client()?.leave(id);
      this.hooks.handedOver(id);
    } catch (err) {
      this.ctx.notices.show(`Could not leave: ${reason(err)}`, "error");
    }
  }

  /** Removes a consultation that ended, leaving Twilio; returns its data (for wrap-up). */
  take(id: string): VetConsultationPayload | undefined {
    const a = this.open.get(id);
    if (!a) return undefined;
    for (const s of a.live) s.close();
    a.el.remove();
    this.open.delete(id);
    return a.data;
  }

  private async goLive(id: string, join: (m: typeof import("./live.js")) => Promise<LiveSession>): Promise<void> {
    try {
      const session = await join(await import("./live.js"));
      const a = this.open.get(id);
      if (a) a.live.push(session);
      else session.close();
    } catch (err) {
      this.ctx.notices.show(`Twilio: ${reason(err)}`, "error");
    }
  }

  /** A fresh Twilio token of the vet (`token:refresh`). */
  private async twilioToken(): Promise<string> {
    const client = this.ctx.client();
    if (!client) throw new Error("not connected");
    return (await client.refreshTwilioToken()).twilioToken;
  }

  private async startCall(id: string): Promise<void> {
    const client = this.ctx.client();
    if (!client) return;
    const a = this.open.get(id);
    try {
      const call = await client.startCall(id);
      a?.setCallStatus("ringing");
      if (a && this.ctx.config.twilio_mode === "live")
        void this.goLive(id, (m) => m.joinVideo(call.twilioToken, call.room_sid, a.media));
    } catch (err) {
      this.ctx.notices.show(`Could not start the call: ${reason(err)}`, "error");
    }
  }

  private async end(id: string): Promise<void> {
    const client = this.ctx.client();
    if (!client) return;
    try {
      await client.end(id);
      this.hooks.ended(id, "You ended the consultation.");
    } catch (err) {
      this.ctx.notices.show(`Could not end: ${reason(err)}`, "error");
    }
  }
}
