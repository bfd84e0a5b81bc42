/**
 * What the consultation engine needs from the outside world. The composition root plugs in
 * PostgreSQL, Socket.IO rooms, Twilio and the repositories; unit tests plug in fakes.
 */
import type { UserServerToClient, VetServerToClient, EventPayload } from "../protocol/events.js";
import type {
  Care,
  ConsultationStatus,
  ConsultationType,
  EndedBy,
  LiveConsultation,
  OfferOutcome,
  OpenStatus,
  PriorityClass,
  RequestProfile,
  VetCard,
  VetSkills,
} from "./types.js";

/**
 * Delivers server→client events to every connection of a vet or a user, on any node.
 *
 * Implementations: the Socket.IO rooms notifier built in `src/sockets/socket-gateway.ts`
 * (across nodes through the Redis adapter); `RecordingNotifier` in
 * `test/support/engine-fakes.ts` for engine unit tests.
 */
export interface Notifier {
  toVet<E extends keyof VetServerToClient>(vetId: number, event: E, payload: EventPayload<VetServerToClient, E>): void;
  toUser<E extends keyof UserServerToClient>(
    appId: number,
    userId: number,
    event: E,
    payload: EventPayload<UserServerToClient, E>,
  ): void;
  /** Whether this node holds a socket of the user. */
  holdsUser(appId: number, userId: number): boolean;
  /** Like {@link toUser}, but only to the user's sockets on this node (nothing crosses nodes). */
  toLocalUser<E extends keyof UserServerToClient>(
    appId: number,
    userId: number,
    event: E,
    payload: EventPayload<UserServerToClient, E>,
  ): void;
}

/** A consultation as the system of record keeps it. */
export interface ConsultationRecord {
  id: string;
  appId: number;
  userId: number;
  petId: number | null;
  type: ConsultationType;
  status: ConsultationStatus;
  vetId: number | null;
  channelSid: string | null;
  roomSid: string | null;
  createdAt: Date;
  endedAt: Date | null;
}

export interface FeedbackRecord {
  consultationId: string;
  type: ConsultationType;
  vetFirstName: string;
  vetLastName: string;
  recommendation: string;
  reason: string;
  /** One of `OUTCOMES` (PROTOCOL §10), or null for feedback given without one. */
  outcome: string | null;
  updatedAt: Date;
}

/**
 * An open (queued, offered or active) consultation as the ledger has it: everything its
 * live state needs except the display profile (the Directory has that). Times in epoch ms.
 */
export interface OpenConsultationRecord {
  id: string;
  appId: number;
  userId: number;
  petId: number | null;
  type: ConsultationType;
  status: OpenStatus;
  requestedVetId: number | null;
  vetId: number | null;
  channelSid: string | null;
  roomSid: string | null;
  createdAt: number;
  acceptedAt: number | null;
  /** Vets whose offer of it ended declined, timeout, disconnected, away or node_dead. */
  excludedVetIds: number[];
  /** The pet's species at request time (lower case), or null. */
  species: string | null;
  /** ISO 639-1 code the owner asked for, or null. */
  language: string | null;
  /** Priority class at request time, before aging. */
  priority: PriorityClass;
  /**
   * When it was last handed back to the queue because its vet left or was disabled
   * (`vet_left`), or null: a waiting one goes ahead of every other request (PROTOCOL §4).
   */
  transferredAt: number | null;
  /** Where the animal is (ISO 3166), or null. */
  region: string | null;
  care: Care;
  /** The treatment request may become advice after `LICENSE_WAIT_MS` (PROTOCOL §4). */
  adviceFallback: boolean;
}

/** An ended consultation whose vet has not given feedback yet (the vet may be in wrap-up). */
export interface WrapupRecord {
  vetId: number;
  consultationId: string;
  endedAt: number;
}

/** Fields a transition may set on the consultation row. */
export interface TransitionPatch {
  vetId?: number;
  channelSid?: string;
  roomSid?: string;
  endedBy?: EndedBy;
  endReason?: string;
  /**
   * Resolves this vet's open offer in the same write (e.g. `accepted` with `active`). With
   * `offeredAt`/`expiresAt` the offer is known exactly: its row is written resolved even when
   * the `offerMade` write (behind, maybe from another node) has not landed yet.
   */
  resolvedOffer?: { vetId: number; outcome: OfferOutcome; offeredAt?: number; expiresAt?: number };
}

/**
 * The ledger, the durable record of consultations: their rows, transitions, offers and
 * feedback. Each method is one write. Writes of one consultation may arrive out of order from
 * several nodes: a status only moves forward in time and never leaves a terminal status,
 * while the patch fields (vet, SIDs, end details) always apply.
 *
 * Implementations: `ConsultationLedger` in `src/repositories/ledger.ts`
 * (PostgreSQL or PGlite); `MemoryLedger` in `test/support/memory-ledger.ts` for engine unit
 * tests. One contract suite (`test/repositories/ledger-contract.ts`) runs against all three.
 */
export interface Ledger {
  create(c: LiveConsultation, source: "socket" | "rest"): Promise<void>;
  transition(
    id: string,
    to: ConsultationStatus,
    at: number,
    patch?: TransitionPatch,
    detail?: Record<string, unknown>,
  ): Promise<void>;
  /** An offer to a vet: the offer row and the `offered` transition. */
  offerMade(
    consultationId: string,
    vetId: number,
    offeredAt: number,
    expiresAt: number,
    requested: boolean,
  ): Promise<void>;
  /**
   * An offer's outcome; with `requeued`, also the transition back to `queued`. With `offer`
   * (its times) the offer row is written resolved even when `offerMade` (written behind,
   * maybe by another node) has not landed yet; that write then leaves it alone.
   */
  offerEnded(
    consultationId: string,
    vetId: number,
    outcome: OfferOutcome,
    at: number,
    requeued: boolean,
    offer?: { offeredAt: number; expiresAt: number },
  ): Promise<void>;
  /** Records the Twilio SIDs of a consultation. */
  setSids(id: string, sids: { channelSid?: string; roomSid?: string }): Promise<void>;
  /**
   * Changes the care of a consultation that still waits (queued or offered), with its event
   * (`detail`) and its `consultation.care_changed` webhook, both only when the care really
   * changes. Durable: recorded before anyone is told. True when it waits with that care now
   * (so a retry after a half-done attempt goes on); false when it no longer waits.
   */
  changeCare(id: string, care: Care, at: number, detail: Record<string, unknown>): Promise<boolean>;
  /**
   * A referral's offer to a vet (PROTOCOL §10): its offer row and an event; the consultation
   * stays active (no `offered` transition).
   */
  referralOffered(consultationId: string, vetId: number, offeredAt: number, expiresAt: number): Promise<void>;
  /**
   * A referral accepted (PROTOCOL §10), in one write: the offer resolved `accepted`, the
   * consultation's vet is `toVetId` (a spell opens; `cold`, the first vet's closes), the event
   * (`detail`) and the `consultation.transferred` webhook. Only while it is active.
   */
  referralAccepted(
    consultationId: string,
    toVetId: number,
    fromVetId: number,
    cold: boolean,
    at: number,
    offer: { offeredAt: number; expiresAt: number },
    detail: Record<string, unknown>,
  ): Promise<void>;
  /** A vet lets go of a consultation another vet holds now (a warm referral's first vet): its spell closes, with the event. */
  vetLeft(consultationId: string, vetId: number, at: number, detail: Record<string, unknown>): Promise<void>;
  /** Appends an event that is not a status change (e.g. a relayed call status). */
  note(id: string, at: number, detail: Record<string, unknown>): Promise<void>;
  get(id: string): Promise<ConsultationRecord | null>;
  findByChannel(appId: number, channelSid: string): Promise<ConsultationRecord | null>;
  findByRoom(appId: number, roomSid: string): Promise<ConsultationRecord | null>;
  /** The vet's feedback, replacing an earlier one (its outcome too: absent or null stores none). */
  saveFeedback(
    consultationId: string,
    vetId: number,
    recommendation: string,
    reason: string,
    at: number,
    outcome?: string | null,
  ): Promise<void>;
  findFeedback(consultationId: string): Promise<FeedbackRecord | null>;
  /** Every open consultation, oldest first (rebuild of the live state). */
  openConsultations(): Promise<OpenConsultationRecord[]>;
  /** Ended consultations with a vet, no feedback yet and `ended_at > since`, oldest first. */
  recentWrapups(since: number): Promise<WrapupRecord[]>;
}

/**
 * Lookups of people and pets, scoped by app for owners.
 *
 * Implementations: `createDirectory` in `src/repositories/directory.ts` (over the user, pet
 * and vet repositories); `fakeDirectory` in `test/support/engine-fakes.ts`.
 */
export interface Directory {
  /** The owner and pet shown to vets, or null when the user or pet is not in this app. */
  requestProfile(appId: number, userId: number, petId: number): Promise<RequestProfile | { missing: "user" | "pet" }>;
  /**
   * The vet's card, names and routing skills. Cached briefly on each node; `fresh` reads the
   * database (when the vet connects, so skills an operator just changed on another node apply).
   */
  vet(
    vetId: number,
    opts?: { fresh?: boolean },
  ): Promise<{ card: VetCard; firstName: string; lastName: string; skills: VetSkills } | null>;
  vetIdByEmail(email: string): Promise<number | null>;
}

/**
 * Twilio access tokens for the two parties.
 *
 * Implementations: `createTokenMinter` in `src/twilio/token-minter.ts` (§1 identities, signed
 * access tokens); `fakeTokens` in `test/support/engine-fakes.ts`.
 */
export interface TokenMinter {
  forUser(appId: number, userId: number, room?: string): { identity: string; token: string; expiresAt: number };
  forVet(vetId: number, room?: string): { identity: string; token: string; expiresAt: number };
}

/**
 * The Twilio REST operations the gateway needs for a consultation (PROTOCOL §5).
 * `offline` makes no calls and mints SIDs locally; `live` calls Twilio (or
 * `TWILIO_API_BASE_URL`). Failures reach the caller as `AppError(502)`.
 *
 * Implementations: `createOfflineProvider` (`src/twilio/offline-provider.ts`) and
 * `createLiveProvider` (`src/twilio/live-provider.ts`); `createTwilioProvider`
 * (`src/twilio/create-provider.ts`) picks one by `TWILIO_MODE`.
 */
export interface TwilioProvider {
  readonly mode: "offline" | "live";
  /**
   * Offline only: a fresh Conversation SID, made locally with no outside effect. The engine
   * then stores it in the accept step itself instead of creating the Conversation after.
   */
  localConversationSid?(): string;
  /**
   * Creates the consultation's Conversation in the chat service and adds both participants
   * (identities). Idempotent on `uniqueName` in live mode: calling it again after a partial
   * failure reuses the existing Conversation and participants.
   */
  createConversation(input: {
    uniqueName: string;
    friendlyName?: string;
    userIdentity: string;
    vetIdentity: string;
  }): Promise<{ sid: string }>;
  /** Sets the Conversation's State to closed. */
  closeConversation(sid: string): Promise<void>;
  /**
   * Adds a participant to an existing Conversation (the next vet of a handed-over
   * consultation, PROTOCOL §4). Already a participant counts as added.
   */
  addParticipant(conversationSid: string, identity: string): Promise<void>;
  /** Removes a participant (the vet who left); not a participant counts as removed. */
  removeParticipant(conversationSid: string, identity: string): Promise<void>;
  /** Creates a `group` Video room. Idempotent on `uniqueName` while that room is in progress. */
  createRoom(input: { uniqueName: string }): Promise<{ sid: string }>;
  /** Sets the room's Status to completed; a room that is no longer in progress counts as done. */
  completeRoom(sid: string): Promise<void>;
}

/** Who wrote a chat message. */
export type ChatAuthor = "vet" | "owner";

/** A chat message as stored (offline Twilio mode, PROTOCOL §10). Times in epoch ms. */
export interface ChatMessageRecord {
  /** Opaque; grows in storage order (the conversation's order). */
  id: string;
  consultationId: string;
  author: ChatAuthor;
  /** The writing vet (author `vet`), else null. */
  vetId: number | null;
  /** The writing owner (author `owner`), else null. */
  userId: number | null;
  authorName: string;
  text: string;
  createdAt: number;
}

/**
 * The stored chat of consultations (offline Twilio mode, PROTOCOL §10).
 *
 * Implementations: `ChatMessages` in `src/repositories/chat-messages.ts` (PostgreSQL or
 * PGlite); `MemoryChatLog` in `test/support/engine-fakes.ts` for engine unit tests.
 */
export interface ChatLog {
  /** Stores a message (durably, before anyone is told); answers it with its id. */
  append(message: Omit<ChatMessageRecord, "id">): Promise<ChatMessageRecord>;
  /**
   * Up to `limit` of the consultation's messages stored before message `before` (the newest
   * when null), oldest first.
   */
  page(consultationId: string, before: string | null, limit: number): Promise<ChatMessageRecord[]>;
}
