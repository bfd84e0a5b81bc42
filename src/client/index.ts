/**
 * Typed client SDK for vet consoles and owner apps (PROTOCOL §3, §8), exported as
 * `vet-consultation-gateway/client`. It depends only on `socket.io-client` and on the wire
 * protocol's types, so it bundles for the browser as well as running in Node.
 *
 * ```ts
 * const vet = createVetClient({ url: "", getToken: () => login(email, password) });
 * vet.onStatus((s) => render(s));
 * vet.on("consult:offer", (offer) => show(offer));
 * await vet.setAvailability("available");
 * ```
 */
export { createVetClient } from "./vet.js";
export { createOwnerClient } from "./owner.js";
export { GatewayError, type GatewayErrorKind } from "./errors.js";
export type {
  BaseClient,
  ClientOptions,
  ConnectionStatus,
  ConsultRequest,
  OwnerClient,
  OwnerEvents,
  SocketToken,
  VetClient,
  VetEvents,
  VetStatePayload,
} from "./types.js";
export type {
  CallStatus,
  ChatMessage,
  ChatMessageEventPayload,
  EndedPayload,
  Envelope,
  EventPayload,
  FeedbackPayload,
  LanguageCode,
  MatchedPayload,
  OfferPayload,
  QueuedPayload,
  StatePayload,
  TokenPayload,
  VetCard,
  VetConsultationPayload,
} from "../protocol/events.js";
