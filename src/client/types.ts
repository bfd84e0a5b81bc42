/**
 * Public types of the client SDK, derived from the event map of `protocol/events.ts`: what a
 * method sends is its event's payload input (`z.input`), what it resolves to is the ack's
 * `data` output (`z.output`), and server events carry their payload output.
 */
import type {
  AckData,
  ClientPayload,
  TokenPayload,
  UserClientEvents,
  UserServerToClient,
  VetClientEvents,
  VetServerToClient,
} from "../protocol/events.js";

/** What the vet client sends with `/vet` event `E`. */
type VetSends<E extends keyof VetClientEvents> = ClientPayload<VetClientEvents, E>;
/** What a `/vet` event `E`'s acknowledgement resolves to. */
type VetGets<E extends keyof VetClientEvents> = AckData<VetClientEvents, E>;
/** What the owner client sends with `/user` event `E`. */
type OwnerSends<E extends keyof UserClientEvents> = ClientPayload<UserClientEvents, E>;
/** What a `/user` event `E`'s acknowledgement resolves to. */
type OwnerGets<E extends keyof UserClientEvents> = AckData<UserClientEvents, E>;

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

/**
 * The vet console's client (`/vet`). Calls whose acknowledgement carries only `data: true`
 * resolve to nothing.
 */
export interface VetClient extends BaseClient<VetEvents> {
  /** `presence:set`: choose availability. */
  setAvailability(status: VetSends<"presence:set">["status"]): Promise<VetGets<"presence:set">>;
  /** `consult:accept`: accept the held offer. */
  accept(consultationId: VetSends<"consult:accept">["consultation_id"]): Promise<VetGets<"consult:accept">>;
  /** `consult:decline`: decline the held offer. */
  decline(consultationId: VetSends<"consult:decline">["consultation_id"]): Promise<void>;
  /** `consult:end`: end an active consultation. */
  end(consultationId: VetSends<"consult:end">["consultation_id"]): Promise<void>;
  /**
   * `consult:feedback`: feedback for an active or ended consultation, with its `outcome` (one
   * of the gateway's `OUTCOMES`, listed by `GET /vet/v1/config`; PROTOCOL §10).
   */
  sendFeedback(
    consultationId: VetSends<"consult:feedback">["consultation_id"],
    recommendation: VetSends<"consult:feedback">["recommendation"],
    reason: VetSends<"consult:feedback">["reason"],
    outcome: VetSends<"consult:feedback">["outcome"],
  ): Promise<void>;
  /** `call:start`: start the video call. */
  startCall(consultationId: VetSends<"call:start">["consultation_id"]): Promise<VetGets<"call:start">>;
  /**
   * `chat:send` (offline Twilio mode): a chat message; resolves to the stored message, which
   * also arrives as `chat:message` (match it by `id`).
   */
  sendChat(
    consultationId: VetSends<"chat:send">["consultation_id"],
    text: VetSends<"chat:send">["text"],
  ): Promise<VetGets<"chat:send">>;
  /**
   * `consult:transfer`: refer an active consultation you hold to another vet (PROTOCOL §10):
   * `to` is `{vet_email}` or `{species?, language?}`; `mode` `warm` (default) or `cold`.
   * You keep it until a vet accepts (`consult:transferred`) or it fails (`consult:transfer_failed`).
   */
  transfer(
    consultationId: VetSends<"consult:transfer">["consultation_id"],
    to: VetSends<"consult:transfer">["to"],
    opts?: { note?: VetSends<"consult:transfer">["note"]; mode?: VetSends<"consult:transfer">["mode"] },
  ): Promise<VetGets<"consult:transfer">>;
  /** `consult:transfer_cancel`: withdraw your pending referral. */
  cancelTransfer(consultationId: VetSends<"consult:transfer_cancel">["consultation_id"]): Promise<void>;
  /** `consult:leave`: as a warm referral's first vet, leave the consultation to the next vet. */
  leave(consultationId: VetSends<"consult:leave">["consultation_id"]): Promise<void>;
}

/** Input of {@link OwnerClient.request}: the `consult:request` payload. */
export type ConsultRequest = OwnerSends<"consult:request">;

/**
 * The pet owner's client (`/user`). Calls whose acknowledgement carries only `data: true`
 * resolve to nothing.
 */
export interface OwnerClient extends BaseClient<OwnerEvents> {
  /** `consult:request`: ask for a vet (an open consultation is returned instead of a second one). */
  request(input: ConsultRequest): Promise<OwnerGets<"consult:request">>;
  /** `consult:cancel`: cancel a waiting request. */
  cancel(consultationId: OwnerSends<"consult:cancel">["consultation_id"]): Promise<void>;
  /** `consult:end`: end an active consultation or cancel a waiting one. */
  end(consultationId: OwnerSends<"consult:end">["consultation_id"]): Promise<void>;
  /** `call:status`: answer a video call. */
  callStatus(
    roomSid: OwnerSends<"call:status">["room_sid"],
    status: OwnerSends<"call:status">["status"],
  ): Promise<void>;
  /**
   * `chat:send` (offline Twilio mode): a chat message; resolves to the stored message, which
   * also arrives as `chat:message` (match it by `id`).
   */
  sendChat(
    consultationId: OwnerSends<"chat:send">["consultation_id"],
    text: OwnerSends<"chat:send">["text"],
  ): Promise<OwnerGets<"chat:send">>;
}
