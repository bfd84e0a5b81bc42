/**
 * One Socket.IO connection with a token getter, a connection status, typed events and
 * acknowledged calls that resolve to the envelope's `data` or reject with a GatewayError.
 * Browser-safe: no Node-only imports.
 */
import { io, type Socket } from "socket.io-client";
import type { Envelope, TokenPayload } from "../protocol/events.js";
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
/** setTimeout's largest delay. */
const MAX_TIMER_MS = 2_147_483_647;

type Listener = (...args: never[]) => void;
type UntypedEvents = { on(e: string, fn: Listener): unknown; off(e: string, fn: Listener): unknown };

export class Connection<S> implements BaseClient<S> {
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
          (t) => cb({ token: t.token }),
          () => cb({}),
        );
      },
    });
    this.socket.on("connect", () => {
      this.unauthorizedStreak = 0;
      this.everConnected = true;
      this.setStatus("connected");
    });
    this.socket.on("connect_error", (err: Error) => {
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

  refreshTwilioToken(): Promise<TokenPayload> {
    return this.ask<TokenPayload>("token:refresh", {});
  }

  /**
   * Emits `event` with an acknowledgement and resolves with the envelope's `data`.
   * Offline (`disconnected`, `unauthorized`) it fails at once; while (re)connecting the
   * call is buffered and sent on connect, within the same timeout.
   */
  protected async ask<T>(event: string, payload: unknown): Promise<T> {
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
      throw new GatewayError("rejected", typeof envelope?.status_code === "number" ? envelope.status_code : 0, messages);
    }
    return envelope.data as T;
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

  /** The handshake was refused (`unauthorized`): retry with a fresh token a few times. */
  private onRefused(err: Error): void {
    this.token = null;
    this.unauthorizedStreak += 1;
    if (err.message !== "unauthorized" || this.unauthorizedStreak > MAX_UNAUTHORIZED) {
      this.setStatus("unauthorized");
      return;
    }
    this.setStatus(this.everConnected ? "reconnecting" : "connecting");
    // A short, growing pause so a getter that keeps failing does not hammer the gateway.
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      if (!this.closed) this.socket.connect();
    }, 250 * (this.unauthorizedStreak - 1));
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
