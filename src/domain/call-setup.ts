/**
 * Call setup (PROTOCOL §5): the Twilio side of a consultation. Creates its Conversation once,
 * its Video room once, rings the owner, relays the owner's answer, and closes both when the
 * consultation ends. Tokens come from the {@link TokenMinter}, one per party.
 */
import type { Clock } from "../lib/clock.js";
import { AppError, notFound } from "../lib/app-error.js";
import type { Logger } from "../lib/logger.js";
import type { CallStatus } from "../protocol/events.js";
import type { LedgerWriter } from "./ledger-writer.js";
import type { PayloadBuilder } from "./outgoing-payloads.js";
import type { Ledger, Notifier, TokenMinter, TwilioProvider } from "./ports.js";
import type { RoutingStore } from "./routing-store.js";
import type { LiveConsultation } from "./types.js";

export interface CallSetupDeps {
  store: RoutingStore;
  /** Read only: SID lookups. Writes go through `ledgerWriter`. */
  ledger: Ledger;
  ledgerWriter: LedgerWriter;
  twilio: TwilioProvider;
  tokens: TokenMinter;
  notifier: Notifier;
  payloads: PayloadBuilder;
  clock: Clock;
  logger: Logger;
}

export class CallSetup {
  private readonly deps: CallSetupDeps;

  constructor(deps: CallSetupDeps) {
    this.deps = deps;
  }

  /** Offline only: a Conversation SID made up front, for the accept step to store itself. */
  localConversationSid(): string | undefined {
    return this.deps.twilio.localConversationSid?.();
  }

  /** Creates the Twilio Conversation once; `recordSid` false when the caller writes the SID itself. */
  async ensureConversation(c: LiveConsultation, recordSid = true): Promise<LiveConsultation> {
    if (c.channelSid || c.vetId === null) return c;
    const { twilio, tokens, ledgerWriter, store } = this.deps;
    const { sid } = await twilio.createConversation({
      uniqueName: c.id,
      friendlyName: `Consultation ${c.id}`,
      userIdentity: tokens.forUser(c.appId, c.userId).identity,
      vetIdentity: tokens.forVet(c.vetId).identity,
    });
    if (recordSid) ledgerWriter.writeBehind(c.id, (l) => l.setSids(c.id, { channelSid: sid }));
    return (await store.updateSids(c.id, { channelSid: sid })) ?? { ...c, channelSid: sid };
  }

  /**
   * A handed-over consultation (PROTOCOL §4) accepted by its next vet: that vet joins the
   * existing Conversation (idempotent; the old vet was removed at hand-over).
   */
  async joinConversation(c: LiveConsultation): Promise<void> {
    if (!c.channelSid || c.vetId === null) return;
    await this.deps.twilio.addParticipant(c.channelSid, this.deps.tokens.forVet(c.vetId).identity);
  }

  /** `call:start` (video): creates the room once, rings the owner, returns the vet's room token. */
  async startCall(vetId: number, consultationId: string): Promise<{ room_sid: string; twilioToken: string }> {
    const { store, twilio, ledgerWriter, tokens, notifier, payloads } = this.deps;
    let c = await store.getConsultation(consultationId);
    if (!c || c.vetId !== vetId) throw notFound("Consultation not found");
    if (c.status !== "active") throw new AppError(409, "The consultation is not active.");
    if (c.type !== "video") throw new AppError(422, "The consultation is not a video consultation.");
    if (!c.roomSid) {
      const { sid } = await twilio.createRoom({ uniqueName: c.id });
      c = (await store.updateSids(c.id, { roomSid: sid })) ?? { ...c, roomSid: sid };
      // Awaited: the owner's answer is looked up by room SID, possibly on another node.
      await ledgerWriter.writeThrough(c.id, (l) => l.setSids(consultationId, { roomSid: sid }));
    }
    const roomSid = c.roomSid!;
    const vet = await payloads.vetCard(vetId);
    const userToken = tokens.forUser(c.appId, c.userId, roomSid);
    notifier.toUser(c.appId, c.userId, "call:incoming", {
      consultation_id: c.id,
      room_sid: roomSid,
      vet,
      twilioToken: userToken.token,
    });
    return { room_sid: roomSid, twilioToken: tokens.forVet(vetId, roomSid).token };
  }

  /**
   * The owner's answer to a call (`call:status` on `/user`, or REST `video-call-action`),
   * relayed to the vet. With `userId` the room must belong to that user.
   */
  async relayCallStatus(appId: number, userId: number | null, roomSid: string, status: CallStatus): Promise<void> {
    const { ledger, store, notifier, ledgerWriter, clock } = this.deps;
    const rec = await ledger.findByRoom(appId, roomSid);
    const live = rec ? await store.getConsultation(rec.id) : null;
    const c = live && live.roomSid === roomSid ? live : null;
    if (!c || (userId !== null && c.userId !== userId) || c.vetId === null) {
      throw notFound("Room not found");
    }
    notifier.toVet(c.vetId, "call:status", { consultation_id: c.id, room_sid: roomSid, status });
    ledgerWriter.writeBehind(c.id, (l) => l.note(c.id, clock.now(), { call_status: status, room_sid: roomSid }));
  }

  /** Closes the Conversation and the room in the background: the consultation is over either way. */
  closeCall(c: LiveConsultation): void {
    const { twilio, logger: log } = this.deps;
    if (c.channelSid) {
      twilio
        .closeConversation(c.channelSid)
        .catch((err: unknown) => log.warn({ err, consultationId: c.id }, "closing the conversation failed"));
    }
    if (c.roomSid) {
      twilio
        .completeRoom(c.roomSid)
        .catch((err: unknown) => log.warn({ err, consultationId: c.id }, "completing the room failed"));
    }
  }
}
