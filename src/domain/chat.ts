/**
 * Chat without Twilio (PROTOCOL §10): with `TWILIO_MODE=offline` the gateway carries the chat
 * of a consultation itself. A message is stored first, then relayed as `chat:message` to the
 * owner and every vet holding the consultation, on every node (the {@link Notifier}'s rooms).
 * The last {@link CHAT_REPLAY} messages travel with `consult:state`, accept and
 * `consult:assigned`, so a console that reloads, or a vet taking over, sees the conversation.
 */
import type { Clock } from "../lib/clock.js";
import type { Logger } from "../lib/logger.js";
import { AppError, notFound } from "../lib/app-error.js";
import type { ChatMessage } from "../protocol/events.js";
import { StorageUnavailableError } from "./errors.js";
import type {
  ChatAuthor,
  ChatLog,
  ChatMessageRecord,
  ConsultationRecord,
  Directory,
  Ledger,
  Notifier,
  TwilioProvider,
} from "./ports.js";
import type { RoutingStore } from "./routing-store.js";
import type { LiveConsultation } from "./types.js";

/** How many messages come back with `consult:state`, accept and `consult:assigned`. */
export const CHAT_REPLAY = 100;

/** The answer of `chat:send` in live Twilio mode (PROTOCOL §10). */
export const LIVE_MODE_CHAT = "Chat runs on Twilio Conversations in live mode.";

/** Who sends a chat message: a vet, or an owner of an app. */
export type ChatSender = { kind: "vet"; vetId: number } | { kind: "owner"; appId: number; userId: number };

export interface ChatDeps {
  store: RoutingStore;
  ledger: Ledger;
  chat: ChatLog;
  notifier: Notifier;
  directory: Directory;
  twilio: TwilioProvider;
  clock: Clock;
  logger: Logger;
}

/** A stored message as the wire carries it. */
export function chatMessagePayload(m: ChatMessageRecord): ChatMessage {
  return {
    id: m.id,
    author: m.author,
    author_name: m.authorName,
    text: m.text,
    created_at: new Date(m.createdAt).toISOString(),
  };
}

/**
 * The vets in a consultation, who get its `chat:message` and may write in it: the vet
 * holding it and, during a warm referral's overlap, the first vet until `consult:leave`.
 */
export function vetsIn(c: LiveConsultation): number[] {
  const vets = c.vetId !== null ? [c.vetId] : [];
  if (c.leavingVetId != null && c.leavingVetId !== c.vetId) vets.push(c.leavingVetId);
  return vets;
}

export class Chat {
  private readonly deps: ChatDeps;

  constructor(deps: ChatDeps) {
    this.deps = deps;
  }

  /** True in offline Twilio mode: the gateway carries the chat. */
  get enabled(): boolean {
    return this.deps.twilio.mode === "offline";
  }

  /**
   * `chat:send`: checks the sender is in the consultation (404 otherwise, as every event) and
   * that it is active (409), stores the message (record first: a refused write is 503 and
   * nobody hears of it), then relays it to everyone in it. Resolves to the stored message.
   */
  async send(from: ChatSender, consultationId: string, text: string): Promise<ChatMessage> {
    if (!this.enabled) throw new AppError(409, LIVE_MODE_CHAT);
    const c = await this.deps.store.getConsultation(consultationId);
    if (!c) return this.notLive(from, consultationId);
    if (!isParticipant(c, from)) throw notFound("Consultation not found");
    if (c.status !== "active") throw new AppError(409, "The consultation is not active.");
    const author: ChatAuthor = from.kind === "vet" ? "vet" : "owner";
    const stored = await this.deps.chat.append({
      consultationId: c.id,
      author,
      vetId: from.kind === "vet" ? from.vetId : null,
      userId: from.kind === "owner" ? from.userId : null,
      authorName: from.kind === "vet" ? await this.vetName(from.vetId) : ownerName(c),
      text,
      createdAt: this.deps.clock.now(),
    });
    const message = chatMessagePayload(stored);
    this.relay(c, message);
    return message;
  }

  /**
   * The conversation so far (the last {@link CHAT_REPLAY} messages, oldest first) for the
   * payloads that carry it; undefined in live mode, where Twilio keeps the chat. A read that
   * fails leaves it out too (logged): an accept already recorded must still reach the vet and
   * the owner, and the console keeps the messages it has.
   */
  async history(consultationId: string): Promise<ChatMessage[] | undefined> {
    if (!this.enabled) return undefined;
    try {
      return (await this.deps.chat.page(consultationId, null, CHAT_REPLAY)).map(chatMessagePayload);
    } catch (err) {
      this.deps.logger.warn({ err, consultationId }, "chat history unavailable: left out of the payload");
      return undefined;
    }
  }

  /** `chat:message` to the owner's sockets and every vet in the consultation (the sender's own included). */
  private relay(c: LiveConsultation, message: ChatMessage): void {
    const payload = { consultation_id: c.id, message };
    this.deps.notifier.toUser(c.appId, c.userId, "chat:message", payload);
    for (const vetId of vetsIn(c)) this.deps.notifier.toVet(vetId, "chat:message", payload);
  }

  /**
   * No live state: ended (or never there) in the database. Unknown or not the sender's → 404;
   * closed → 409; still open in the database (the live state is being rebuilt) → 503.
   */
  private async notLive(from: ChatSender, consultationId: string): Promise<never> {
    const rec = await this.deps.ledger.get(consultationId);
    if (!rec || !recordParticipant(rec, from)) throw notFound("Consultation not found");
    if (rec.status === "queued" || rec.status === "offered" || rec.status === "active")
      throw new StorageUnavailableError(5);
    throw new AppError(409, "The consultation is not active.");
  }

  private async vetName(vetId: number): Promise<string> {
    const vet = await this.deps.directory.vet(vetId);
    if (!vet) return "Vet";
    return `${vet.firstName} ${vet.lastName}`.trim() || vet.card.username || "Vet";
  }
}

function isParticipant(c: LiveConsultation, from: ChatSender): boolean {
  return from.kind === "vet" ? vetsIn(c).includes(from.vetId) : c.appId === from.appId && c.userId === from.userId;
}

function recordParticipant(rec: ConsultationRecord, from: ChatSender): boolean {
  return from.kind === "vet" ? rec.vetId === from.vetId : rec.appId === from.appId && rec.userId === from.userId;
}

function ownerName(c: LiveConsultation): string {
  const u = c.profile.user;
  return `${u.first_name} ${u.last_name ?? ""}`.trim() || "Owner";
}
