/**
 * The socket protocol (PROTOCOL §3) as TypeScript types: used by the server, by the tests
 * and by client apps (`import type { UserServerToClient } from ".../protocol/events.js"`).
 * Every client→server event takes an acknowledgement that receives an {@link Envelope}.
 */
import type { Envelope } from "../lib/envelope.js";
import type { ConsultationType, EndedBy, VetCard } from "../domain/types.js";

export type { Envelope, VetCard };

/** Acknowledgement callback: always answered with the REST envelope. */
export type Ack<T = unknown> = (response: Envelope<T | never[]>) => void;

export type CallStatus = "notanswered" | "declined" | "accepted";
export type OfferRevokedReason = "cancelled" | "timeout" | "taken";

/** Owner-side view of a matched consultation (`consult:matched`, talk-to-vet `data`). */
export interface MatchedPayload {
  consultation_id: string;
  type: ConsultationType;
  /** The Twilio Conversation SID (`CH…`). */
  channel: string;
  vet: VetCard;
  /** The recipient's own Twilio identity. */
  identity: string;
  /** The recipient's own Twilio access token. */
  twilioToken: string;
}

export interface OfferPayload {
  consultation_id: string;
  type: ConsultationType;
  user: Record<string, unknown>;
  pet: Record<string, unknown> | null;
  /** True when the owner asked for this vet by email. */
  requested: boolean;
  /** ISO-8601. */
  expires_at: string;
}

/** What `consult:accept` answers and `consult:assigned` carries to the vet. */
export interface VetConsultationPayload extends MatchedPayload {
  user: Record<string, unknown>;
  pet: Record<string, unknown> | null;
  /** The owner's Twilio identity (the other participant). */
  user_identity: string;
}

export interface EndedPayload {
  consultation_id: string;
  ended_by: EndedBy;
  reason?: string;
}

export interface FeedbackPayload {
  consultation_id: string;
  type: ConsultationType;
  vet_first_name: string;
  vet_last_name: string;
  recommendation: string;
  reason: string;
  feedback_date: string;
}

export interface QueuedPayload {
  consultation_id: string;
  position: number;
  estimated_wait_s: number;
}

/** Sent to a user right after connecting when an open consultation exists (resume). */
export interface StatePayload {
  consultation_id: string;
  status: "queued" | "offered" | "active";
  type: ConsultationType;
  position?: number;
  estimated_wait_s?: number;
  channel?: string | null;
  room_sid?: string | null;
  vet?: VetCard;
  identity?: string;
  twilioToken?: string;
}

export interface TokenPayload {
  twilioToken: string;
  /** ISO-8601. */
  expires_at: string;
}

// ---------- /vet ----------

export interface VetClientToServer {
  "presence:set": (p: { status: "available" | "away" }, ack: Ack<{ status: string }>) => void;
  "consult:accept": (p: { consultation_id: string }, ack: Ack<VetConsultationPayload>) => void;
  "consult:decline": (p: { consultation_id: string }, ack: Ack) => void;
  "consult:end": (p: { consultation_id: string }, ack: Ack) => void;
  "consult:feedback": (p: { consultation_id: string; recommendation: string; reason: string }, ack: Ack) => void;
  "call:start": (p: { consultation_id: string }, ack: Ack<{ room_sid: string; twilioToken: string }>) => void;
  "token:refresh": (p: Record<string, never>, ack: Ack<TokenPayload>) => void;
}

export interface VetServerToClient {
  "consult:offer": (p: OfferPayload) => void;
  "consult:offer_revoked": (p: { consultation_id: string; reason: OfferRevokedReason }) => void;
  "consult:assigned": (p: VetConsultationPayload) => void;
  presence: (p: { status: "available" | "away" | "offline"; reason?: string }) => void;
  "call:status": (p: { consultation_id: string; room_sid: string; status: CallStatus }) => void;
  "consult:ended": (p: EndedPayload) => void;
}

// ---------- /user ----------

export interface UserClientToServer {
  "consult:request": (
    p: { conversation_request: ConsultationType; pet_id: number; doctor_email?: string },
    ack: Ack<{ consultation_id: string; status: string; position: number }>,
  ) => void;
  "consult:cancel": (p: { consultation_id: string }, ack: Ack) => void;
  "consult:end": (p: { consultation_id: string }, ack: Ack) => void;
  "call:status": (p: { room_sid: string; status: CallStatus }, ack: Ack) => void;
  "token:refresh": (p: Record<string, never>, ack: Ack<TokenPayload>) => void;
}

export interface UserServerToClient {
  "consult:queued": (p: QueuedPayload) => void;
  "consult:matched": (p: MatchedPayload) => void;
  "call:incoming": (p: { consultation_id: string; room_sid: string; vet: VetCard; twilioToken: string }) => void;
  "consult:ended": (p: EndedPayload) => void;
  "consult:expired": (p: { consultation_id: string }) => void;
  "consult:feedback": (p: FeedbackPayload) => void;
  "consult:state": (p: StatePayload) => void;
}

/** Payload type of a server→client event. */
export type EventPayload<M, E extends keyof M> = M[E] extends (p: infer P) => void ? P : never;
