/**
 * The socket protocol (PROTOCOL §3): the entry of the wire protocol, used by the server,
 * by the tests and by client apps (`import type { UserServerToClient } from ".../protocol/events.js"`).
 * Every event is listed once below with its zod schemas; the TypeScript event maps derive
 * from that list, the gateway validates with it and `/asyncapi.json` is generated from it.
 * Imports only zod and its sibling modules: a client SDK can import it alone.
 * Every client→server event takes an acknowledgement that receives an {@link Envelope}.
 */
import type { z } from "zod";
import type { Envelope } from "./envelope.js";
import type { languageCodeSchema } from "./languages.js";
import * as p from "./payloads.js";
import * as r from "./referral-payloads.js";

export * from "./payloads.js";
export * from "./referral-payloads.js";
export { envelopeSchema, errorEnvelopeSchema, type Envelope } from "./envelope.js";
export * from "./handshake.js";

/** A client→server event: its payload and the `data` of its successful acknowledgement. */
export interface ClientEventSpec {
  payload: z.ZodType;
  ack: z.ZodType;
  summary: string;
}
/** A server→client event and when it is sent. */
export interface ServerEventSpec {
  payload: z.ZodType;
  summary: string;
}

/** `/vet` client → server. */
export const vetClientEvents = {
  "presence:set": { payload: p.presenceSetSchema, ack: p.presenceAckSchema, summary: "Choose availability." },
  "consult:accept": {
    payload: p.consultationIdSchema,
    ack: p.vetConsultationSchema,
    summary: "Accept the held offer; 409 when it was revoked or expired. Idempotent for the accepting vet.",
  },
  "consult:decline": {
    payload: p.consultationIdSchema,
    ack: p.trueSchema,
    summary: "Decline the held offer; it goes to the next vet.",
  },
  "consult:end": {
    payload: p.consultationIdSchema,
    ack: p.trueSchema,
    summary: "End an active consultation (idempotent).",
  },
  "consult:feedback": {
    payload: p.feedbackSubmitSchema,
    ack: p.trueSchema,
    summary:
      "Feedback for an active or ended consultation with its outcome (one of `OUTCOMES`, PROTOCOL §10; else 422); a second one replaces the first and ends wrap-up.",
  },
  "call:start": {
    payload: p.consultationIdSchema,
    ack: p.callStartAckSchema,
    summary: "Start the video call (video consultations).",
  },
  "token:refresh": { payload: p.emptySchema, ack: p.tokenSchema, summary: "A fresh Twilio access token." },
  "chat:send": {
    payload: p.chatSendSchema,
    ack: p.chatMessageSchema,
    summary:
      "Offline Twilio mode: a chat message in a consultation this vet holds (text trimmed, 1–4000 characters); the ack is the stored message. 404 not the vet's, 409 not active, 409 in live mode (chat runs on Twilio Conversations).",
  },
  "consult:transfer": {
    payload: r.transferSchema,
    ack: r.transferAckSchema,
    summary: "Refer an active consultation you hold to another vet (PROTOCOL §10); you keep it until a vet accepts.",
  },
  "consult:transfer_cancel": {
    payload: p.consultationIdSchema,
    ack: p.trueSchema,
    summary: "Withdraw your pending referral.",
  },
  "consult:leave": {
    payload: p.consultationIdSchema,
    ack: p.trueSchema,
    summary: "A warm referral's first vet leaves the consultation the next vet now holds.",
  },
} as const satisfies Record<string, ClientEventSpec>;

/** `/vet` server → client. */
export const vetServerEvents = {
  "consult:offer": {
    payload: p.offerSchema,
    summary: "An offer (one at a time), with the pet's `history_count`; sent again after reconnecting while held.",
  },
  "consult:offer_revoked": {
    payload: p.offerRevokedSchema,
    summary: "The held offer ended: owner cancelled, timeout, or taken.",
  },
  "consult:assigned": {
    payload: p.vetConsultationSchema,
    summary: "REST talk-to-vet assigned this vet; no accept needed.",
  },
  presence: { payload: p.presenceSchema, summary: "On connect and whenever the gateway changes the vet's status." },
  "call:status": { payload: p.vetCallStatusSchema, summary: "The owner answered a video call." },
  "consult:ended": { payload: p.endedSchema, summary: "The consultation ended." },
  "consult:transfer_failed": {
    payload: r.transferFailedSchema,
    summary:
      "Your referral failed (declined, missed by the named vet, or TRANSFER_TIMEOUT_MS): you keep the consultation.",
  },
  "consult:transferred": {
    payload: r.transferredSchema,
    summary: "A vet accepted your referral: `cold`, you no longer hold it; `warm`, send `consult:leave` when done.",
  },
  "consult:state": {
    payload: p.vetStateSchema,
    summary: "Right after connecting, once per active consultation of this vet (resume, fresh token).",
  },
  "chat:message": {
    payload: p.chatMessageEventSchema,
    summary:
      "Offline Twilio mode: a chat message was stored in a consultation (the sender's own included), to the owner and every vet holding it.",
  },
  "session:closed": {
    payload: p.sessionClosedSchema,
    summary:
      "Right before the server disconnects this socket: `replaced` (a newer connection of the same identity went over MAX_SOCKETS_PER_*) or `flooding`. Do not reconnect automatically.",
  },
} as const satisfies Record<string, ServerEventSpec>;

/** `/user` client → server. */
export const userClientEvents = {
  "consult:request": {
    payload: p.consultRequestSchema,
    ack: p.requestAckSchema,
    summary: "Ask for a vet; an open consultation is returned instead of a second one.",
  },
  "consult:cancel": {
    payload: p.consultationIdSchema,
    ack: p.trueSchema,
    summary: "Cancel a waiting request (409 when active).",
  },
  "consult:end": {
    payload: p.consultationIdSchema,
    ack: p.trueSchema,
    summary: "End an active consultation or cancel a waiting one.",
  },
  "call:status": {
    payload: p.callStatusSetSchema,
    ack: p.trueSchema,
    summary: "Answer a video call; relayed to the vet.",
  },
  "token:refresh": { payload: p.emptySchema, ack: p.tokenSchema, summary: "A fresh Twilio access token." },
  "chat:send": {
    payload: p.chatSendSchema,
    ack: p.chatMessageSchema,
    summary:
      "Offline Twilio mode: a chat message in the owner's active consultation (text trimmed, 1–4000 characters); the ack is the stored message. 404 not theirs, 409 not active, 409 in live mode.",
  },
} as const satisfies Record<string, ClientEventSpec>;

/** `/user` server → client. */
export const userServerEvents = {
  "consult:queued": { payload: p.queuedSchema, summary: "On request and whenever the queue position changes." },
  "consult:matched": { payload: p.matchedSchema, summary: "A vet accepted." },
  "call:incoming": {
    payload: p.callIncomingSchema,
    summary: "The vet started the video call (token has the room grant).",
  },
  "consult:ended": { payload: p.endedSchema, summary: "The consultation ended." },
  "consult:expired": { payload: p.expiredSchema, summary: "No vet accepted within QUEUE_TIMEOUT_MS." },
  "consult:feedback": { payload: p.feedbackSchema, summary: "The vet's feedback." },
  "consult:transferred": {
    payload: r.transferredSchema,
    summary: "Another vet took over the consultation (a referral, PROTOCOL §10).",
  },
  "consult:state": {
    payload: p.stateSchema,
    summary: "Right after connecting when an open consultation exists (resume).",
  },
  "chat:message": {
    payload: p.chatMessageEventSchema,
    summary:
      "Offline Twilio mode: a chat message was stored in a consultation (the sender's own included), to the owner and every vet holding it.",
  },
  "session:closed": {
    payload: p.sessionClosedSchema,
    summary:
      "Right before the server disconnects this socket: `replaced` (a newer connection of the same identity went over MAX_SOCKETS_PER_*) or `flooding`. Do not reconnect automatically.",
  },
} as const satisfies Record<string, ServerEventSpec>;

/** Acknowledgement callback: always answered with the REST envelope. */
export type Ack<T = unknown> = (response: Envelope<T | never[]>) => void;

/** A namespace's client→server events, as listed above. */
export type ClientEventTable = Record<string, ClientEventSpec>;
/** A namespace's server→client events, as listed above. */
export type ServerEventTable = Record<string, ServerEventSpec>;

/** `/vet` client → server, as a type: handler and SDK types are mapped over it. */
export type VetClientEvents = typeof vetClientEvents;
/** `/vet` server → client, as a type. */
export type VetServerEvents = typeof vetServerEvents;
/** `/user` client → server, as a type: handler and SDK types are mapped over it. */
export type UserClientEvents = typeof userClientEvents;
/** `/user` server → client, as a type. */
export type UserServerEvents = typeof userServerEvents;

/**
 * What a client sends with event `E`: the payload schema's input, before the gateway's
 * parsing (coercion, trimming), which is what an SDK method takes.
 */
export type ClientPayload<C extends ClientEventTable, E extends keyof C> = z.input<C[E]["payload"]>;
/** The payload of event `E` once the gateway parsed it: what its handler receives. */
export type ParsedPayload<C extends ClientEventTable, E extends keyof C> = z.output<C[E]["payload"]>;
/** The `data` of event `E`'s successful acknowledgement. */
export type AckData<C extends ClientEventTable, E extends keyof C> = z.output<C[E]["ack"]>;
/** The payload of server→client event `E`, as a client receives it. */
export type ServerPayload<S extends ServerEventTable, E extends keyof S> = z.output<S[E]["payload"]>;

type ClientMap<C extends ClientEventTable> = {
  [E in keyof C]: (payload: ParsedPayload<C, E>, ack: Ack<AckData<C, E>>) => void;
};
type ServerMap<S extends ServerEventTable> = {
  [E in keyof S]: (payload: ServerPayload<S, E>) => void;
};

export type VetClientToServer = ClientMap<typeof vetClientEvents>;
export type VetServerToClient = ServerMap<typeof vetServerEvents>;
export type UserClientToServer = ClientMap<typeof userClientEvents>;
export type UserServerToClient = ServerMap<typeof userServerEvents>;

export type ConsultationType = z.output<typeof p.consultationTypeSchema>;
export type EndedBy = z.output<typeof p.endedBySchema>;
export type CallStatus = z.output<typeof p.callStatusSchema>;
export type OfferRevokedReason = z.output<typeof p.offerRevokedReasonSchema>;
export type VetCard = z.output<typeof p.vetCardSchema>;
export type MatchedPayload = z.output<typeof p.matchedSchema>;
export type OfferPayload = z.output<typeof p.offerSchema>;
export type VetConsultationPayload = z.output<typeof p.vetConsultationSchema>;
export type EndedPayload = z.output<typeof p.endedSchema>;
export type FeedbackPayload = z.output<typeof p.feedbackSchema>;
export type QueuedPayload = z.output<typeof p.queuedSchema>;
export type StatePayload = z.output<typeof p.stateSchema>;
export type VetStatePayload = z.output<typeof p.vetStateSchema>;
export type TokenPayload = z.output<typeof p.tokenSchema>;
export type ChatMessage = z.output<typeof p.chatMessageSchema>;
export type ChatMessageEventPayload = z.output<typeof p.chatMessageEventSchema>;
export type TransferFailedReason = z.output<typeof r.transferFailedReasonSchema>;
export type TransferInput = z.output<typeof r.transferSchema>;
export type SessionClosedPayload = z.output<typeof p.sessionClosedSchema>;
export type SessionClosedReason = z.output<typeof p.sessionClosedReasonSchema>;
export type LanguageCode = z.output<typeof languageCodeSchema>;

/** Payload type of a server→client event. */
export type EventPayload<M, E extends keyof M> = M[E] extends (p: infer P) => void ? P : never;
