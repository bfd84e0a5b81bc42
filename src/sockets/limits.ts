/**
 * Socket limits (PROTOCOL §7): a bursty event limit per socket, disconnection of sockets that
 * keep flooding, and a cap on connections per identity across nodes. Kept apart from the
 * gateway's handlers so the transport stays thin.
 */
import { BurstyRateLimiter, RateLimiterMemory, RateLimiterRes } from "rate-limiter-flexible";
import type { Namespace, Socket } from "socket.io";
import { fail } from "../protocol/envelope.js";
import type { Logger } from "../lib/logger.js";
import type { SessionClosedPayload, SessionClosedReason } from "../protocol/events.js";

export type { SessionClosedReason };

/** What this module emits on either namespace (both declare `session:closed` in the protocol). */
interface SessionClosedEvents {
  "session:closed": (payload: SessionClosedPayload) => void;
}
type ClosableSocket = Socket<Record<string, never>, SessionClosedEvents>;
type ClosableNamespace = Namespace<Record<string, never>, SessionClosedEvents>;

/** Tuning of {@link createSocketLimits}; the config's `sockets` section fits. */
export interface SocketLimitOptions {
  /** Sustained events per second per socket; bursts may reach twice that. */
  eventsPerS: number;
  /** A socket refused without a quiet second for this long is disconnected. */
  floodDisconnectS: number;
}

/** The socket limits of one gateway node. */
export interface SocketLimits {
  /** Installs the per-socket event limit on a freshly connected socket. */
  guard(socket: ClosableSocket): void;
  /**
   * Keeps at most `max` sockets of the identity whose room is `room` (this node and every
   * other one, through the adapter): the oldest beyond it are closed with reason `replaced`.
   */
  enforcePerIdentity(nsp: ClosableNamespace, room: string, max: number): Promise<void>;
  /** Lets other nodes ask this node to close one of its sockets (call once per namespace). */
  listen(nsp: ClosableNamespace): void;
}

// Server-side event between nodes: "close your socket {id} with {reason}".
const CLOSE_REQUEST = "limits:close";
// A refusal this long after the previous one starts a new flooding streak.
const QUIET_MS = 1_000;

// Shortest pause of a socket's reading once its bucket is empty.
const MIN_PAUSE_MS = 50;

/** Pausing and resuming what a node reads from one socket. */
interface ReadControl {
  /** Stops reading for `ms`, then calls `resumed`; false (and nothing done) when it cannot pause or already is. */
  pauseFor(ms: number, resumed: () => void): boolean;
  /** Reads again at once and for good (the socket is closing: its close handshake must be read). */
  stop(): void;
}

/** The `ws` socket under an engine.io WebSocket transport: what can be paused. */
interface PausableWebSocket {
  pause(): void;
  resume(): void;
  readonly isPaused: boolean;
}

/**
 * Reading control over the socket's current transport. Only WebSocket can be paused (the
 * kernel then holds further frames, and the client's writes stall); under HTTP long-polling
 * every excess event is still answered 429.
 */
function readControl(socket: ClosableSocket): ReadControl {
  let timer: NodeJS.Timeout | null = null;
  let paused: PausableWebSocket | null = null;
  let stopped = false;
  const resume = () => {
    timer = null;
    const ws = paused;
    paused = null;
    if (ws?.isPaused) ws.resume();
  };
  return {
    pauseFor(ms, resumed) {
      if (timer || stopped) return false;
      const transport = socket.conn.transport as { name?: string; socket?: Partial<PausableWebSocket> };
      const ws = transport.name === "websocket" ? transport.socket : undefined;
      if (typeof ws?.pause !== "function" || typeof ws.resume !== "function" || ws.isPaused) return false;
      paused = ws as PausableWebSocket;
      paused.pause();
      timer = setTimeout(() => {
        resume();
        resumed();
      }, ms);
      timer.unref();
      return true;
    },
    stop() {
      if (timer) clearTimeout(timer);
      resume();
      stopped = true;
    },
  };
}

/** Tells the client why, then disconnects (the event is written before the disconnect packet). */
export function closeLocal(socket: ClosableSocket, reason: SessionClosedReason): void {
  socket.emit("session:closed", { reason });
  socket.disconnect(true);
}

/** Builds the limits; the event bucket lives in memory because a socket lives on one node. */
export function createSocketLimits(opts: SocketLimitOptions, logger: Logger): SocketLimits {
  // rate-limiter-flexible has no token bucket; its bursty limiter gives the same shape:
  // `eventsPerS` a second, plus a burst allowance of as many again (refilled every 2 s).
  const limiter = new BurstyRateLimiter(
    new RateLimiterMemory({ keyPrefix: "sock", points: opts.eventsPerS, duration: 1 }),
    new RateLimiterMemory({ keyPrefix: "sock-burst", points: opts.eventsPerS, duration: 2 }),
  );
  const floodMs = opts.floodDisconnectS * 1000;
  const floodRefusals = 4 * opts.eventsPerS;

  return {
    guard(socket) {
      let streakStart = 0;
      let lastRefusal = 0;
      let streakRefusals = 0;
      /** The last pause of this streak (ms); 0 before the first. */
      let lastPauseMs = 0;
      const reading = readControl(socket);
      socket.use((packet, next) => {
        limiter.consume(socket.id).then(
          () => next(),
          (refusal: unknown) => {
            // A limiter failure is not the client's fault: let the event through.
            if (!(refusal instanceof RateLimiterRes)) {
              logger.warn({ err: refusal }, "socket limiter failed");
              next();
              return;
            }
            const now = Date.now();
            if (now - lastRefusal > QUIET_MS) {
              streakStart = now;
              streakRefusals = 0;
              lastPauseMs = 0;
            }
            lastRefusal = now;
            streakRefusals++;
            const ack: unknown = packet.at(-1);
            if (typeof ack === "function") (ack as (e: unknown) => void)(fail(429, "Too Many Requests"));
            if (now - streakStart >= floodMs && socket.connected) {
              logger.info({ socketId: socket.id, nsp: socket.nsp.name }, "socket disconnected for flooding");
              reading.stop();
              closeLocal(socket, "flooding");
              return;
            }
            // Refused more than twice its burst in a row: flooding, not a burst. Backpressure:
            // what it sends next waits in the TCP buffers until the bucket has refilled,
            // instead of costing this node an answer each. A paused socket is not quiet.
            // Each pause of a streak lasts twice the one before (ending by the disconnect
            // deadline): everything buffered is answered in one go on resuming, which delays
            // the node's other work, so a flood is read a handful of times, not every second.
            if (streakRefusals > floodRefusals) {
              const backoff = Math.max(MIN_PAUSE_MS, refusal.msBeforeNext, 2 * lastPauseMs);
              const ms = Math.max(MIN_PAUSE_MS, Math.min(backoff, streakStart + floodMs - now));
              if (reading.pauseFor(ms, () => (lastRefusal = Date.now()))) lastPauseMs = ms;
            }
          },
        );
      });
      socket.once("disconnect", () => reading.stop());
    },

    async enforcePerIdentity(nsp, room, max) {
      const sockets = await nsp.in(room).fetchSockets();
      if (sockets.length <= max) return;
      const oldest = [...sockets]
        .sort((a, b) => a.handshake.issued - b.handshake.issued)
        .slice(0, sockets.length - max);
      for (const s of oldest) {
        const local = nsp.sockets.get(s.id);
        if (local) closeLocal(local, "replaced");
        else nsp.serverSideEmit(CLOSE_REQUEST, s.id, "replaced");
      }
    },

    listen(nsp) {
      nsp.on(CLOSE_REQUEST, (id: unknown, reason: unknown) => {
        const local = typeof id === "string" ? nsp.sockets.get(id) : undefined;
        if (local && (reason === "replaced" || reason === "flooding")) closeLocal(local, reason);
      });
    },
  };
}
