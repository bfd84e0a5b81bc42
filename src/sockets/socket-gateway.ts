/**
 * The Socket.IO transport: `/user` and `/vet` namespaces. Thin by design: authenticate the
 * handshake, validate each payload with zod, call the engine, answer with the envelope.
 */
import { isStorageUnavailable } from "../transport/storage-unavailable.js";
import type { LocalConnections } from "../domain/rebuild.js";
import type http from "node:http";
import { createAdapter } from "@socket.io/redis-adapter";
import { Server, type Namespace, type Socket } from "socket.io";
import type { RedisClientType } from "redis";
import type { GatewayContext } from "../context.js";
import type { ConsultationEngine } from "../domain/consultation-engine.js";
import { StorageUnavailableError } from "../domain/errors.js";
import type { Notifier } from "../domain/ports.js";
import { AppError } from "../lib/app-error.js";
import { fail, ok, type Envelope } from "../protocol/envelope.js";
import { validate } from "../transport/validation.js";
import { originAllowed } from "../transport/origin.js";
import { HandshakeRefusal, handshakeGuard } from "./handshake.js";
import type { VetPrincipal } from "../auth/socket-tokens.js";
import { vetSessionValid } from "../auth/vet-sessions.js";
import { closeLocal, createSocketLimits } from "./limits.js";
import { startRegistration, type Registration } from "./registration.js";
import {
  userClientEvents,
  vetClientEvents,
  type AckData,
  type ClientEventTable,
  type ParsedPayload,
  type UserClientEvents,
  type UserClientToServer,
  type UserServerToClient,
  type VetClientEvents,
  type VetClientToServer,
  type VetServerToClient,
} from "../protocol/events.js";

type VetSocketData = { vetId: number; principal: VetPrincipal };
type UserSocketData = { appId: number; userId: number };
type VetNamespace = Namespace<VetClientToServer, VetServerToClient, Record<string, never>, VetSocketData>;
type UserNamespace = Namespace<UserClientToServer, UserServerToClient, Record<string, never>, UserSocketData>;
type VetSocket = Socket<VetClientToServer, VetServerToClient, Record<string, never>, VetSocketData>;
type UserSocket = Socket<UserClientToServer, UserServerToClient, Record<string, never>, UserSocketData>;

export const vetRoom = (vetId: number) => `vet:${vetId}`;
export const userRoom = (appId: number, userId: number) => `user:${appId}:${userId}`;

/** Each namespace's client→server events: the gateway validates every payload with their schemas. */
const clientEvents = { vet: vetClientEvents, user: userClientEvents } as const;
type ClientEventsOf = typeof clientEvents;
type NamespaceName = keyof ClientEventsOf;

/**
 * The handler of client→server event `E` of table `C`: it receives the payload as the map's
 * schema parsed it and resolves to the acknowledgement's `data` (the map's ack type) and message.
 */
export type EventHandler<C extends ClientEventTable, E extends keyof C> = (
  input: ParsedPayload<C, E>,
) => Promise<{ data: AckData<C, E>; message: string }>;

/** One handler per client→server event of `C`: a missing or an extra event does not compile. */
export type EventHandlers<C extends ClientEventTable> = { [E in keyof C]: EventHandler<C, E> };

/**
 * The socket's identity was revoked (deleted user, disabled vet): the ack gets 401, then the
 * socket is closed (after the ack is written, so the client reads why).
 */
function revoke(socket: Socket): never {
  setImmediate(() => socket.disconnect(true));
  throw new AppError(401, "Unauthenticated.");
}

/** The `/vet` handlers of one connection (PROTOCOL §3). */
function vetHandlers(ctx: GatewayContext, engine: ConsultationEngine, socket: VetSocket) {
  const { vetId } = socket.data;
  return {
    "presence:set": async (p) => ({
      data: await engine.setVetStatus(vetId, p.status),
      message: "Presence updated",
    }),
    "consult:accept": async (p) => ({
      data: await engine.accept(vetId, p.consultation_id),
      message: "Consultation accepted",
    }),
    "consult:decline": async (p) => {
      await engine.decline(vetId, p.consultation_id);
      return { data: true, message: "Consultation declined" };
    },
    "consult:end": async (p) => {
      await engine.endByVet(vetId, p.consultation_id);
      return { data: true, message: "Consultation ended" };
    },
    "consult:feedback": async (p) => {
      await engine.submitFeedback(vetId, p.consultation_id, p.recommendation, p.reason, p.outcome);
      return { data: true, message: "Feedback saved" };
    },
    "call:start": async (p) => ({
      data: await engine.startCall(vetId, p.consultation_id),
      message: "Call started",
    }),
    "token:refresh": async () => {
      // Re-checked against the database (PROTOCOL §7): a disabled or revoked vet gets 401 and is closed.
      const vet = await ctx.repos.vets.findById(vetId);
      if (!vetSessionValid(vet, socket.data.principal, ctx.config.demo)) revoke(socket);
      return { data: engine.vetToken(vetId), message: "Vet token" };
    },
    "chat:send": async (p) => ({
      data: await engine.sendChat({ kind: "vet", vetId }, p.consultation_id, p.text),
      message: "Message sent",
    }),
    "consult:transfer": async (p) => ({
      data: await engine.transfer(vetId, p.consultation_id, { to: p.to, note: p.note, mode: p.mode }),
      message: "Referral requested",
    }),
    "consult:transfer_cancel": async (p) => {
      await engine.cancelTransfer(vetId, p.consultation_id);
      return { data: true, message: "Referral cancelled" };
    },
    "consult:leave": async (p) => {
      await engine.leave(vetId, p.consultation_id);
      return { data: true, message: "Left the consultation" };
    },
  } satisfies EventHandlers<VetClientEvents>;
}

/** The `/user` handlers of one connection (PROTOCOL §3). */
function userHandlers(ctx: GatewayContext, engine: ConsultationEngine, socket: UserSocket) {
  const { appId, userId } = socket.data;
  return {
    "consult:request": async (p) => ({
      data: await engine.request({
        appId,
        userId,
        petId: p.pet_id,
        type: p.conversation_request,
        doctorEmail: p.doctor_email,
        language: p.language,
        emergency: p.emergency,
        region: p.region,
        care: p.care,
        adviceFallback: p.advice_fallback,
      }),
      message: "Consultation requested",
    }),
    "consult:cancel": async (p) => {
      await engine.cancel(appId, userId, p.consultation_id);
      return { data: true, message: "Consultation cancelled" };
    },
    "consult:end": async (p) => {
      await engine.endByUser(appId, userId, p.consultation_id);
      return { data: true, message: "Consultation ended" };
    },
    "call:status": async (p) => {
      await engine.relayCallStatus(appId, userId, p.room_sid, p.status);
      return { data: true, message: "Call status sent" };
    },
    "token:refresh": async () => {
      // Re-checked against the database (PROTOCOL §6): a deleted user gets 401 and is closed.
      const user = await ctx.repos.users.findById(appId, userId);
      if (!user || (user.demo && !ctx.config.demo)) revoke(socket);
      return { data: engine.userToken(appId, userId), message: "User token" };
    },
    "chat:send": async (p) => ({
      data: await engine.sendChat({ kind: "owner", appId, userId }, p.consultation_id, p.text),
      message: "Message sent",
    }),
  } satisfies EventHandlers<UserClientEvents>;
}

/** The `/vet` handlers as written (the type test compares them with the event map). */
export type VetHandlers = ReturnType<typeof vetHandlers>;
/** The `/user` handlers as written (the type test compares them with the event map). */
export type UserHandlers = ReturnType<typeof userHandlers>;

/** How long shutdown waits for Socket.IO and its Redis clients before cutting them. */
const CLOSE_GRACE_MS = 2000;

export interface SocketGateway {
  readonly io: Server;
  readonly notifier: Notifier;
  /** Registers the namespaces' handlers once the engine exists. */
  bind(engine: ConsultationEngine): void;
  /** Disconnects this node's sockets so clients reconnect and register again. */
  disconnectLocal(): void;
  /**
   * Closes this node's vet sockets whose session is no longer valid (disabled, revoked, demo
   * outside demo mode), whatever revoked it: the CLI, another node, the database itself.
   * One query for all of them; resolves to how many were closed.
   */
  sweepRevokedVets(): Promise<number>;
  /** The vet and owner sockets connected to this node (registered again after a rebuild). */
  localConnections(): LocalConnections;
  /** Stops reacting to disconnects (the node already handed its state back), then closes. */
  close(opts?: { draining?: boolean }): Promise<void>;
}

/** Attaches Socket.IO to `httpServer`; with Redis, events reach sockets on every node. */
export async function createSocketGateway(httpServer: http.Server, ctx: GatewayContext): Promise<SocketGateway> {
  const io = new Server(httpServer, {
    // Small JSON frames at high rate: compression costs more CPU than it saves.
    perMessageDeflate: false,
    serveClient: false,
    // Browsers only from CORS_ORIGINS or the same origin (PROTOCOL §7); WebSocket skips CORS,
    // so allowRequest checks the Origin of every handshake, whatever the transport.
    cors: { origin: ctx.config.corsOrigins.length > 0 ? ctx.config.corsOrigins : false, credentials: false },
    allowRequest: (req, callback) =>
      callback(null, originAllowed(req.headers.origin, req.headers.host, ctx.config.corsOrigins)),
    maxHttpBufferSize: 64 * 1024,
    pingInterval: 10_000,
    pingTimeout: 5_000,
  });
  const extraClients: RedisClientType[] = [];
  if (ctx.redis) {
    const pub = ctx.redis.duplicate();
    const sub = ctx.redis.duplicate();
    for (const c of [pub, sub])
      c.on("error", (err: unknown) => ctx.logger.warn({ err }, "socket.io redis client error"));
    await Promise.all([pub.connect(), sub.connect()]);
    extraClients.push(pub, sub);
    io.adapter(createAdapter(pub, sub, { key: `${ctx.config.redisKeyPrefix}socket.io` }));
  }

  // The default namespace serves nothing: every connection to it is refused (PROTOCOL §7).
  io.of("/").use((_socket, next) => next(new HandshakeRefusal("unauthorized")));
  const vets = io.of("/vet") as VetNamespace;
  const users = io.of("/user") as UserNamespace;
  const limits = createSocketLimits(ctx.config.sockets, ctx.logger);
  limits.listen(vets);
  limits.listen(users);
  let draining = false;
  /** Disconnect bookkeeping still running: close() lets it finish before the store closes. */
  const leaving = new Set<Promise<void>>();
  const track = (work: Promise<void>) => {
    leaving.add(work);
    void work.finally(() => leaving.delete(work));
  };
  // Set once closing starts: work still in flight must not publish through closed Redis clients.
  let closed = false;

  const notifier: Notifier = {
    toVet: (vetId, event, payload) => {
      if (closed) return;
      // Typed per event by the Notifier signature; the namespace's emit overloads need the cast.
      (vets.to(vetRoom(vetId)).emit as (e: string, p: unknown) => boolean)(event, payload);
    },
    toUser: (appId, userId, event, payload) => {
      if (closed) return;
      (users.to(userRoom(appId, userId)).emit as (e: string, p: unknown) => boolean)(event, payload);
    },
    holdsUser: (appId, userId) => users.adapter.rooms.has(userRoom(appId, userId)),
    toLocalUser: (appId, userId, event, payload) => {
      if (closed) return;
      (users.local.to(userRoom(appId, userId)).emit as (e: string, p: unknown) => boolean)(event, payload);
    },
  };

  // The token is checked in memory; the account in the database. A database that cannot answer
  // refuses the handshake as `unavailable` (503, retried), never `unauthorized` (final).
  vets.use(
    handshakeGuard<VetSocketData>({
      namespace: "vet",
      logger: ctx.logger,
      outages: ctx.outages,
      metrics: ctx.metrics,
      admit: async (token) => {
        const p = await ctx.socketTokens.verify(token, "vet");
        if (p?.kind !== "vet") return null;
        // Disabled, revoked (older session version) and, outside demo mode, demo vets are refused.
        const vet = await ctx.repos.vets.findById(p.vetId);
        return vetSessionValid(vet, p, ctx.config.demo) ? { vetId: vet.id, principal: p } : null;
      },
    }),
  );
  users.use(
    handshakeGuard<UserSocketData>({
      namespace: "user",
      logger: ctx.logger,
      outages: ctx.outages,
      metrics: ctx.metrics,
      admit: async (token) => {
        const p = await ctx.socketTokens.verify(token, "user");
        if (p?.kind !== "user") return null;
        const user = await ctx.repos.users.findById(p.appId, p.userId);
        return user && (ctx.config.demo || !user.demo) ? { appId: p.appId, userId: p.userId } : null;
      },
    }),
  );

  /**
   * Registers acknowledged event `event` of `specs` (the table of `ns`), validated with the
   * table's schema for it. An event without a callback is ignored; a bad payload gets 422; the
   * database away gets 503; an unexpected error gets 500 and is logged. Nothing escapes to crash the node.
   */
  function handle<C extends ClientEventTable, E extends keyof C & string>(
    socket: Socket,
    registration: Registration,
    ns: NamespaceName,
    specs: C,
    event: E,
    run: EventHandler<C, E>,
  ): void {
    const schema: C[E]["payload"] = specs[event].payload;
    // Widened: Socket.IO's listener types cannot resolve a generic event name.
    const name: string = event;
    socket.on(name, (...args: unknown[]) => {
      const ack = args.at(-1);
      if (typeof ack !== "function") return;
      const payload = args.length > 1 ? args[0] : undefined;
      const reply = ack as (e: Envelope) => void;
      void (async () => {
        let envelope: Envelope;
        try {
          const input = validate(schema, payload ?? {});
          // Events sent right after connecting wait for the first registration attempt; while
          // routing does not know the socket (store or database away), they get 503.
          await registration.firstAttempt;
          if (!registration.registered()) throw new StorageUnavailableError(5);
          const { data, message } = await run(input);
          envelope = ok(data, message);
        } catch (err) {
          if (err instanceof AppError) envelope = fail(err.status, err.messages);
          else if (isStorageUnavailable(err)) {
            // Record first (PROTOCOL §6): nothing changed; the client may retry later.
            ctx.outages.warn("socket event refused: storage unavailable", err, { event, ns });
            envelope = fail(503, "Service Unavailable");
          } else {
            ctx.logger.error({ err, event, ns }, "socket handler failed");
            envelope = fail(500, "Server Error");
          }
        }
        ctx.metrics.socketEvents.inc({ namespace: ns, event, status: String(envelope.status_code) });
        reply(envelope);
      })();
    });
  }

  /** Registers every client→server event of `ns`, in the map's order, with its handler. */
  function handleAll<N extends NamespaceName>(
    socket: Socket,
    registration: Registration,
    ns: N,
    handlers: EventHandlers<ClientEventsOf[N]>,
  ): void {
    for (const event of Object.keys(clientEvents[ns]) as (keyof ClientEventsOf[N] & string)[]) {
      handle(socket, registration, ns, clientEvents[ns], event, handlers[event]);
    }
  }

  function bind(engine: ConsultationEngine): void {
    vets.on("connection", (socket) => {
      const vetId = socket.data.vetId;
      ctx.metrics.socketConnections.inc({ namespace: "vet" });
      limits.guard(socket);
      void socket.join(vetRoom(vetId));
      limits
        .enforcePerIdentity(vets, vetRoom(vetId), ctx.config.sockets.maxPerVet)
        .catch((err: unknown) => ctx.logger.warn({ err, vetId }, "socket cap check failed"));
      const ready = startRegistration(
        async () => {
          const presence = await engine.vetConnected(vetId, socket.id);
          socket.emit("presence", { status: presence.status, reason: "connected" });
          // Resume (PROTOCOL §3): active consultations, then the held offer again.
          const { states, offer } = await engine.vetResume(vetId);
          for (const state of states) socket.emit("consult:state", state);
          if (offer) socket.emit("consult:offer", offer);
        },
        ctx.logger,
        { vetId },
      );
      socket.on("disconnect", () => {
        ctx.metrics.socketConnections.dec({ namespace: "vet" });
        const settled = ready.stop();
        if (draining) return;
        track(
          settled
            .then(() => engine.vetDisconnected(vetId, socket.id))
            .catch((err: unknown) => ctx.logger.error({ err, vetId }, "vet disconnect failed")),
        );
      });
      handleAll(socket, ready, "vet", vetHandlers(ctx, engine, socket));
    });

    users.on("connection", (socket) => {
      const { appId, userId } = socket.data;
      ctx.metrics.socketConnections.inc({ namespace: "user" });
      limits.guard(socket);
      void socket.join(userRoom(appId, userId));
      limits
        .enforcePerIdentity(users, userRoom(appId, userId), ctx.config.sockets.maxPerUser)
        .catch((err: unknown) => ctx.logger.warn({ err, appId, userId }, "socket cap check failed"));
      const ready = startRegistration(
        async () => {
          const state = await engine.userConnected(appId, userId, socket.id);
          if (state) socket.emit("consult:state", state);
        },
        ctx.logger,
        { appId, userId },
      );
      socket.on("disconnect", () => {
        ctx.metrics.socketConnections.dec({ namespace: "user" });
        const settled = ready.stop();
        if (draining) return;
        track(
          settled
            .then(() => engine.userDisconnected(appId, userId, socket.id))
            .catch((err: unknown) => ctx.logger.error({ err, appId, userId }, "user disconnect failed")),
        );
      });
      handleAll(socket, ready, "user", userHandlers(ctx, engine, socket));
    });
  }

  return {
    io,
    notifier,
    bind,
    localConnections() {
      const local: LocalConnections = { vets: [], users: [] };
      for (const [connId, s] of vets.sockets) {
        const { vetId } = s.data as Partial<VetSocketData>;
        if (vetId !== undefined) local.vets.push({ vetId, connId });
      }
      for (const [connId, s] of users.sockets) {
        const { appId, userId } = s.data as Partial<UserSocketData>;
        if (appId !== undefined && userId !== undefined) local.users.push({ appId, userId, connId });
      }
      return local;
    },
    disconnectLocal() {
      vets.local.disconnectSockets(true);
      users.local.disconnectSockets(true);
    },
    async sweepRevokedVets() {
      const open = [...vets.sockets.values()];
      if (open.length === 0) return 0;
      const found = await ctx.repos.vets.findByIds([...new Set(open.map((s) => s.data.vetId))]);
      const byId = new Map(found.map((v) => [v.id, v]));
      const revoked = open.filter(
        (s) => !vetSessionValid(byId.get(s.data.vetId) ?? null, s.data.principal, ctx.config.demo),
      );
      for (const s of revoked) closeLocal(s, "revoked");
      return revoked.length;
    },
    async close(opts = {}) {
      if (opts.draining) draining = true;
      closed = true;
      await new Promise<void>((resolve) => {
        void io.close(() => resolve());
        // After a Redis outage the adapter's unsubscribe can wait forever: do not hang shutdown.
        setTimeout(resolve, CLOSE_GRACE_MS).unref();
      });
      // The sockets just closed are still leaving routing: bounded, the store may be away.
      await Promise.race([Promise.allSettled([...leaving]), new Promise((r) => setTimeout(r, CLOSE_GRACE_MS).unref())]);
      for (const c of extraClients) {
        const quit = c.quit().catch(() => undefined);
        await Promise.race([quit, new Promise((r) => setTimeout(r, CLOSE_GRACE_MS).unref())]);
        if (c.isOpen) c.destroy();
      }
    },
  };
}
