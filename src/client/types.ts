/** Public types of the client SDK. */
import type {
  TokenPayload,
  UserServerToClient,
  VetConsultationPayload,
  VetServerToClient,
} from "../protocol/events.js";

/** A socket token as `POST /vet/v1/login` or `POST /api/v2/{name}/socket-token` return it. */
export interface SocketToken {
  token: string;
  /** ISO-8601. */
  expires_at: string;
}

export interface ClientOptions {
  /** Gateway base URL, e.g. `https://gw.example.com`; `""` or `location.origin` in a browser page it serves. */
  url: string;
  /**
   * Returns a fresh socket token. Called at connect, before the current token expires (at
   * 80 % of its life, kept for the next reconnect), and after `connect_error` `unauthorized`.
   * A rejection whose error has `retryable: true`, or an HTTP `status`/`statusCode` of 0
   * (network), 429 or 5xx, is retried with backoff (like a gateway `unavailable`); any other
   * rejection counts as a refused token (status `unauthorized` after a few tries).
   */
  getToken: () => Promise<SocketToken>;
  /** How long an acknowledged call waits for its answer (default 10000 ms). */
  ackTimeoutMs?: number;
  /** Connect at once (default true); otherwise call `connect()`. */
  autoConnect?: boolean;
  /** Socket.IO transports (default: Socket.IO's, polling upgraded to websocket). */
  transports?: ("websocket" | "polling")[];
}

/**
 * `connecting`: first attempt; `connected`; `reconnecting`: lost, retrying on its own (also
 * while the gateway refuses handshakes as `unavailable`, e.g. its database is away: the SDK
 * retries with backoff, as long as it takes); `disconnected`: closed by `close()` or by the
 * server (not retried); `unauthorized`: the gateway refused a freshly fetched token, or
 * `getToken` failed for a reason not worth retrying (call `connect()` to retry).
 */
export type ConnectionStatus = "connecting" | "connected" | "reconnecting" | "disconnected" | "unauthorized";

/** A vet's resumed active consultation (`consult:state` on `/vet`, sent right after connecting). */
export type { VetStatePayload } from "../protocol/events.js";

/** Server→client events of `/vet` (`consult:state` included: a reloaded console resumes). */
export type VetEvents = VetServerToClient;

/** Server→client events of `/user`. */
export type OwnerEvents = UserServerToClient;

/** What both clients share: connection, status, typed events, Twilio token refresh. */
export interface BaseClient<S> {
  readonly status: ConnectionStatus;
  /** Calls `cb` on every status change; returns the unsubscribe function. */
  onStatus(cb: (s: ConnectionStatus) => void): () => void;
  /** Subscribes to a server→client event; returns the unsubscribe function. */
  on<E extends keyof S & string>(event: E, handler: S[E]): () => void;
  /** Connects (again), e.g. after `close()` or `unauthorized`. */
  connect(): void;
  /** Disconnects for good and stops token refreshes. */
  close(): void;
  /** A fresh Twilio access token (`token:refresh`). */
  refreshTwilioToken(): Promise<TokenPayload>;
}

/** The vet console's client (`/vet`). */
export interface VetClient extends BaseClient<VetEvents> {
  setAvailability(status: "available" | "away"): Promise<{ status: string }>;
  accept(consultationId: string): Promise<VetConsultationPayload>;
  decline(consultationId: string): Promise<void>;
  end(consultationId: string): Promise<void>;
  sendFeedback(consultationId: string, recommendation: string, reason: string): Promise<void>;
  startCall(consultationId: string): Promise<{ room_sid: string; twilioToken: string }>;
}

/** Input of {@link OwnerClient.request} (`consult:request`). */
export interface ConsultRequest {
  conversation_request: "chat" | "video";
  pet_id: number;
  doctor_email?: string;
  /** ISO 639-1 code: vets who speak it are preferred for a while. */
  language?: string;
  /** Subscribed `protect_users` owners only (others get 422). */
  emergency?: boolean;
}

/** The pet owner's client (`/user`). */
export interface OwnerClient extends BaseClient<OwnerEvents> {
  request(input: ConsultRequest): Promise<{ consultation_id: string; status: string; position: number }>;
  cancel(consultationId: string): Promise<void>;
  end(consultationId: string): Promise<void>;
  callStatus(roomSid: string, status: "notanswered" | "declined" | "accepted"): Promise<void>;
}
