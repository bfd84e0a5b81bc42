/**
 * One Socket.IO connection with a token getter, a connection status, typed events and
 * acknowledged calls that resolve to the envelope's `data` or reject with a GatewayError.
 * Browser-safe: no Node-only imports.
 */
import { io, type Socket } from "socket.io-client";
import type {
  AckData,
  ClientEventTable,
  ClientPayload,
  Envelope,
  HandshakeRefusalData,
  TokenPayload,
} from "../protocol/events.js";
import { GatewayError } from "./errors.js";
import type { BaseClient, ClientOptions, ConnectionStatus, SocketToken } from "./types.js";

/** Fetch the next token when this share of the current one's life has passed. */
const REFRESH_AT = 0.8;
/** A cached token with less life left than this is not used for a handshake. */
const MIN_LIFE_LEFT_MS = 5_000;
/** Consecutive `unauthorized` refusals (each retried with a fresh token) before giving up. */
const MAX_UNAUTHORIZED = 3;
/** Pause before reconnecting after the gateway closed the socket itself. */
const SERVER_DISCONNECT_RETRY_MS = 1_000;
/** A second server-side disconnect within this window is not retried. */
const SERVER_DISCONNECT_WINDOW_MS = 30_000;
/** A server's retry hint is honoured up to this long. */
const MAX_RETRY_AFTER_MS = 60_000;
/** setTimeout's largest delay. */
const MAX_TIMER_MS = 2_147_483_647;

type Listener = (...args: never[]) => void;
/** A `connect_error`: Socket.IO puts the gateway's refusal envelope in `data`. */
type ConnectError = Error & { data?: Partial<HandshakeRefusalData> };
type UntypedEvents = { on(e: string, fn: Listener): unknown; off(e: string, fn: Listener): unknown };

/** `C`: the namespace's client→server events (what `ask` may send); `S`: its server→client events. */
export abstract class Connection<C extends ClientEventTable, S> implements BaseClient<S> {
  protected readonly socket: Socket;
  private readonly ackTimeoutMs: number;
  private readonly getToken: () => Promise<SocketToken>;
  private current: ConnectionStatus;
  private readonly statusListeners = new Set<(s: ConnectionStatus) => void>();
  private token: SocketToken | null = null;
  private pendingToken: Promise<SocketToken> | null = null;
  private refreshTimer: ReturnType<typeof setTimeout> | null = null;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  private unauthorizedStreak = 0;
  /** Consecutive refusals worth retrying (gateway `unavailable`, or a transient `getToken` failure). */
  private transientStreak = 0;
  /** Why the last `getToken` call failed, until the handshake it left without a token is refused. */
  private tokenError: unknown = null;
  private everConnected = false;
  private lastServerDisconnect = -Infinity;
  private closed = false;

  constructor(namespace: "/vet" | "/user", opts: ClientOptions) {
    this.ackTimeoutMs = opts.ackTimeoutMs ?? 10_000;
    this.getToken = opts.getToken;
    this.socket = io(opts.url + namespace, {
      autoConnect: false,
      forceNew: true,
      ...(opts.transports ? { transports: opts.transports } : {}),
      // Called on every (re)connect attempt, so a reconnect always presents a live token.
      auth: (cb: (data: object) => void) => {
        this.handshakeToken().then(
          (t) => {
            this.tokenError = null;
            cb({ token: t.token });
          },
          // Sent without a token: the refusal that follows is judged by this error (onRefused).
          (err: unknown) => {
            this.tokenError = err ?? new Error("getToken failed");
            cb({});
          },
        );
      },
    });
    this.socket.on("connect", () => {
      this.unauthorizedStreak = 0;
      this.transientStreak = 0;
      this.everConnected = true;
      this.setStatus("connected");
    });
    this.socket.on("connect_error", (err: ConnectError) => {
      // Not active: the server's middleware refused us, and Socket.IO will not retry by itself.
      if (!this.socket.active) this.onRefused(err);
      else this.setStatus(this.everConnected ? "reconnecting" : "connecting");
    });
    this.socket.on("disconnect", (reason: string) => {
      if (this.closed) return;
      if (reason === "io server disconnect") this.onServerDisconnect();
      else this.setStatus(this.socket.active ? "reconnecting" : "disconnected");
    });
    this.current = "disconnected";
    if (opts.autoConnect ?? true) this.connect();
  }

  get status(): ConnectionStatus {
    return this.current;
  }

  onStatus(cb: (s: ConnectionStatus) => void): () => void {
    this.statusListeners.add(cb);
    return () => this.statusListeners.delete(cb);
  }

  on<E extends keyof S & string>(event: E, handler: S[E]): () => void {
    // Typed by S at the call site; Socket.IO's own listener types know nothing of S.
    const fn = handler as Listener;
    const events = this.socket as unknown as UntypedEvents;
    events.on(event, fn);
    return () => {
      events.off(event, fn);
    };
  }

  connect(): void {
    this.closed = false;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    if (this.socket.active) return;
    this.setStatus(this.everConnected ? "reconnecting" : "connecting");
    this.socket.connect();
  }

  close(): void {
    this.closed = true;
    for (const t of [this.refreshTimer, this.retryTimer]) if (t) clearTimeout(t);
    this.refreshTimer = this.retryTimer = null;
    this.socket.disconnect();
    this.setStatus("disconnected");
  }

  // Each namespace sends `token:refresh` through its own typed `ask`.
  abstract refreshTwilioToken(): Promise<TokenPayload>;

  /**
   * Emits `event` with an acknowledgement and resolves with the envelope's `data`.
   * Offline (`disconnected`, `unauthorized`) it fails at once; while (re)connecting the
   * call is buffered and sent on connect, within the same timeout.
   */
  protected async ask<E extends keyof C & string>(event: E, payload: ClientPayload<C, E>): Promise<AckData<C, E>> {
    if (this.current === "disconnected" || this.current === "unauthorized") {
      throw new GatewayError("disconnected", 0, ["Not connected"]);
    }
    let envelope: Envelope<unknown>;
    try {
      envelope = (await this.socket.timeout(this.ackTimeoutMs).emitWithAck(event, payload)) as Envelope<unknown>;
    } catch (err) {
      const timedOut = err instanceof Error && /timed out/.test(err.message);
      throw timedOut
        ? new GatewayError("timeout", 0, [`No answer to ${event} within ${this.ackTimeoutMs} ms`])
        : new GatewayError("disconnected", 0, ["Disconnected before the answer"]);
    }
    if (envelope?.success !== true) {
      const messages = Array.isArray(envelope?.message) ? envelope.message.map(String) : ["Rejected"];
      throw new GatewayError(
        "rejected",
        typeof envelope?.status_code === "number" ? envelope.status_code : 0,
        messages,
      );
    }
    // Not parsed again: the gateway's handlers are typed by the same ack schema.
    return envelope.data as AckData<C, E>;
  }

  private setStatus(s: ConnectionStatus): void {
    if (s === this.current) return;
    this.current = s;
    for (const cb of [...this.statusListeners]) cb(s);
  }

  /**
   * The gateway closed this socket itself (Socket.IO does not retry those): e.g. a node
   * handing its sockets back, a disabled vet, or a connection replaced by a newer one.
   * Reconnect once after a pause; a second such disconnect soon after is final, so two
   * tabs never take turns pushing each other out.
   */
  private onServerDisconnect(): void {
    const now = Date.now();
    const again = now - this.lastServerDisconnect < SERVER_DISCONNECT_WINDOW_MS;
    this.lastServerDisconnect = now;
    if (again) {
      this.setStatus("disconnected");
      return;
    }
    this.setStatus("reconnecting");
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      if (!this.closed) this.socket.connect();
    }, SERVER_DISCONNECT_RETRY_MS);
  }

  /**
   * The handshake was refused. `unavailable` or `server_error` (the gateway could not check
   * the token), or a `getToken` that failed for a transient reason: retry with backoff, for as
   * long as it takes, keeping the token. `unauthorized`: retry with a fresh token a few times,
   * then report `unauthorized`. Anything else is final.
   */
  private onRefused(err: ConnectError): void {
    const tokenError = this.tokenError;
    this.tokenError = null;
    const transient = tokenError ? isTransientTokenError(tokenError) : isTransientRefusal(err);
    if (transient) {
      this.transientStreak += 1;
      this.retryAfter(this.backoffMs(tokenError ? undefined : err.data?.retry_after_s));
      return;
    }
    this.token = null;
    this.unauthorizedStreak += 1;
    if (err.message !== "unauthorized" || this.unauthorizedStreak > MAX_UNAUTHORIZED) {
      this.setStatus("unauthorized");
      return;
    }
    // A short, growing pause so a getter that keeps failing does not hammer the gateway.
    this.retryAfter(250 * (this.unauthorizedStreak - 1));
  }

  private retryAfter(ms: number): void {
    this.setStatus(this.everConnected ? "reconnecting" : "connecting");
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      if (!this.closed) this.socket.connect();
    }, ms);
  }

  /**
   * Socket.IO's reconnection backoff (`reconnectionDelay` doubling up to `reconnectionDelayMax`,
   * default 1 s to 5 s), never shorter than the gateway's `retry_after_s`, plus up to
   * `randomizationFactor` of it so clients refused together do not come back together.
   */
  private backoffMs(retryAfterS: number | undefined): number {
    const m = this.socket.io;
    const exp = Math.min(m.reconnectionDelayMax(), m.reconnectionDelay() * 2 ** Math.min(this.transientStreak - 1, 20));
    const hint =
      typeof retryAfterS === "number" && retryAfterS > 0 ? Math.min(retryAfterS * 1000, MAX_RETRY_AFTER_MS) : 0;
    const wait = Math.max(exp, hint);
    return Math.round(wait * (1 + Math.random() * m.randomizationFactor()));
  }

  /** The cached token while it has life left, else a fresh one. */
  private async handshakeToken(): Promise<SocketToken> {
    const t = this.token;
    if (t && Date.parse(t.expires_at) - Date.now() > MIN_LIFE_LEFT_MS) return t;
    return this.fetchToken();
  }

  /** Calls `getToken` (one call at a time) and schedules the next refresh. */
  private fetchToken(): Promise<SocketToken> {
    this.pendingToken ??= this.getToken()
      .then((t) => {
        this.token = t;
        this.scheduleRefresh(t);
        return t;
      })
      .finally(() => {
        this.pendingToken = null;
      });
    return this.pendingToken;
  }

  private scheduleRefresh(t: SocketToken): void {
    if (this.refreshTimer) clearTimeout(this.refreshTimer);
    this.refreshTimer = null;
    const life = Date.parse(t.expires_at) - Date.now();
    if (!Number.isFinite(life) || life <= 0 || this.closed) return;
    this.refreshTimer = setTimeout(
      () => {
        this.refreshTimer = null;
        // A failed refresh is retried by the next handshake, which sees the token run low.
        this.fetchToken().catch(() => undefined);
      },
      Math.min(life * REFRESH_AT, MAX_TIMER_MS),
    );
  }
}

/** The gateway refused the handshake because it could not check the token (5xx), not because of the token. */
function isTransientRefusal(err: ConnectError): boolean {
  if (err.message === "unavailable" || err.message === "server_error") return true;
  const code = err.data?.status_code;
  return typeof code === "number" && code >= 500;
}

/**
 * `getToken` failed for a reason worth retrying: its error says `retryable: true`, or carries
 * an HTTP `status`/`statusCode` of 0 (network), 429 or 5xx, as fetch wrappers commonly do.
 */
function isTransientTokenError(err: unknown): boolean {
  if (typeof err !== "object" || err === null) return false;
  const e = err as { retryable?: unknown; status?: unknown; statusCode?: unknown };
  if (typeof e.retryable === "boolean") return e.retryable;
  const code = typeof e.status === "number" ? e.status : e.statusCode;
  return typeof code === "number" && (code === 0 || code === 429 || code >= 500);
}
