/**
 * The composition root: the one place where the gateway's parts are built and wired.
 * Tests build several gateways in one process through {@link buildGateway}.
 */
import { randomBytes } from "node:crypto";
import { mkdirSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { createClient, type RedisClientType } from "redis";
import { createAppAuthenticator } from "./auth/app-auth.js";
import { SocketTokens } from "./auth/socket-tokens.js";
import type { Config } from "./config.js";
import { resolveSecrets } from "./auth/gateway-secret.js";
import { VetLogin } from "./auth/vet-sessions.js";
import { createScryptGate } from "./lib/passwords.js";
import type { GatewayContext } from "./context.js";
import { openDatabase, type Database } from "./db/database.js";
import { isDatabaseUnavailable } from "./db/errors.js";
import { createHttpApp } from "./http/app.js";
import { createTarpit } from "./http/tarpit.js";
import { systemClock, type Clock } from "./lib/clock.js";
import { createLogger, type Logger } from "./lib/logger.js";
import { OutageLog } from "./lib/outage-log.js";
import { isStorageUnavailable } from "./transport/storage-unavailable.js";
import { sharedRead } from "./lib/shared-read.js";
import { createMetrics } from "./ops/metrics.js";
import { createStatsHistory } from "./ops/stats-history.js";
import { createRepositories } from "./repositories/index.js";
import { startDemo } from "./demo/seed.js";
import { createAccessTokenIssuer } from "./twilio/access-tokens.js";
import { createDirectory } from "./repositories/directory.js";
import { createTokenMinter } from "./twilio/token-minter.js";
import { ConsultationEngine } from "./domain/consultation-engine.js";
import type { RoutingStore } from "./domain/routing-store.js";
import type { VetSkills } from "./domain/types.js";
import { createConsultationRouter } from "./http/routes/v2/consultations.js";
import { vetQueueOf } from "./http/routes/vet-console.js";
import { MemoryRoutingStore } from "./routing-store/memory/store.js";
import { RedisRoutingStore } from "./routing-store/redis/store.js";
import { withCommandDeadline } from "./lib/redis-commands.js";
import { createSocketGateway, userRoom, vetRoom, type SocketGateway } from "./sockets/socket-gateway.js";
import { createTwilioProvider } from "./twilio/create-provider.js";
import type { RetryPolicy } from "./twilio/live-provider.js";
import { vetIdentity } from "./twilio/identity.js";
import { WebhookService } from "./webhooks/service.js";
import { daysBetween, StatsSummary } from "./ops/stats-summary.js";

/** How often each node sweeps deadlines, reaps dead nodes and runs a routing pass. */
const TICK_MS = 100;
/** How often each node offers to take the stats history's sample (one per 10 s step). */
const STATS_TICK_MS = 1_000;
/** How often each node computes the statistics of days that closed (once per day across nodes). */
const STATS_CLOSE_EVERY_MS = 3_600_000;
/** How often each node closes the vet sockets whose session was revoked elsewhere (CLI, another node). */
const REVOCATION_SWEEP_MS = 10_000;
/** How old the queue read behind the consoles' queue bar (`GET /vet/v1/queue`) may be. */
const VET_QUEUE_MAX_AGE_MS = 1_000;

/** Test and embedding hooks; production uses the defaults. */
export interface GatewayOverrides {
  logger?: Logger;
  clock?: Clock;
  /** Share one open database between gateways (e.g. two nodes in one test). */
  database?: Database;
  nodeId?: string;
  /** Twilio retry policy (tests shorten the backoff). */
  twilioRetry?: RetryPolicy;
  /** Deadline sweep interval in ms; 0 disables the timer (tests tick by hand). */
  tickMs?: number;
}

/** A built gateway: listen, drain (SIGTERM) and close. */
export interface Gateway {
  readonly ctx: GatewayContext;
  readonly httpServer: http.Server;
  readonly engine: ConsultationEngine;
  readonly sockets: SocketGateway;
  /** Partner webhooks: settings, the delivery log, the dispatcher (tests run it by hand with `tickMs: 0`). */
  readonly webhooks: WebhookService;
  /** Starts listening on `config.port` (0 picks a free port); resolves to the bound address. */
  listen(): Promise<AddressInfo>;
  /** Graceful shutdown: stop accepting, hand back this node's vets and offers, close. */
  drain(): Promise<void>;
  /** Immediate teardown of every resource (tests). */
  close(): Promise<void>;
}

export async function buildGateway(settings: Config, overrides: GatewayOverrides = {}): Promise<Gateway> {
  const config = resolveSecrets(settings);
  const logger = overrides.logger ?? createLogger(config.logLevel);
  const clock = overrides.clock ?? systemClock;
  const nodeId = overrides.nodeId ?? `node-${randomBytes(6).toString("hex")}`;
  const closers: Array<() => Promise<unknown>> = [];

  const ownsDatabase = !overrides.database;
  const database =
    overrides.database ??
    (await openDatabase({
      url: config.databaseUrl,
      pgliteDir: path.join(config.dataDir, "pglite"),
      timeoutMs: config.databaseTimeoutMs,
    }));
  if (ownsDatabase) closers.push(() => database.close());

  let redis: RedisClientType | null = null;
  if (config.redisUrl) {
    // node-redis' own command timeout is off: withCommandDeadline() does it more cheaply.
    redis = createClient({ url: config.redisUrl, commandOptions: { timeout: 0 } });
    redis.on("error", (err: unknown) => logger.warn({ err }, "redis client error"));
    await redis.connect();
    const client = redis;
    closers.push(() => client.quit().catch(() => client.destroy()));
  }

  const mediaDir = path.resolve(config.dataDir, "media");
  mkdirSync(mediaDir, { recursive: true });

  const redisCommands = redis ? withCommandDeadline(redis, config.redisCommandTimeoutMs) : null;
  const repos = createRepositories(database);
  if (config.demo) await startDemo(repos, logger, new Date(clock.now()));
  const metrics = createMetrics();
  const outages = new OutageLog(logger, clock, isStorageUnavailable);
  closers.push(() => Promise.resolve(outages.close()));
  const scrypt = createScryptGate();
  const webhooks = new WebhookService({
    database,
    apps: repos.apps,
    gatewaySecret: config.gatewaySecret,
    clock,
    logger,
    outages,
    ...config.webhooks,
    observer: {
      attempt: (result, seconds) => {
        metrics.webhookAttempts.inc({ result });
        metrics.webhookAttemptSeconds.observe(seconds);
      },
      oldestPendingSeconds: (s) => metrics.webhookOldestPending.set(s),
    },
  });
  const accessTokens = createAccessTokenIssuer(config.twilio, clock);
  const ctx: GatewayContext = {
    config,
    logger,
    outages,
    clock,
    nodeId,
    database,
    repos,
    redis,
    redisCommands,
    metrics,
    accessTokens,
    tokens: createTokenMinter(accessTokens, config.twilio),
    socketTokens: new SocketTokens(config.gatewaySecret, config.socketTokenTtlS, clock, config.vetSessionMaxS),
    // Its caches age on real time, not on the injectable domain clock a test may freeze.
    appAuth: createAppAuthenticator(repos.apps, {
      gatewaySecret: config.gatewaySecret,
      demo: config.demo,
      logger,
      scrypt,
    }),
    vetLogin: new VetLogin(repos.vets, scrypt, config.demo),
    webhooks,
    tarpit: createTarpit({
      ...config.tarpit,
      onHeld: (n) => metrics.tarpitHeld.set(n),
      onFull: () => metrics.tarpitFull.inc(),
    }),
    mediaDir,
  };

  const store: RoutingStore = redisCommands
    ? new RedisRoutingStore({ client: redisCommands, prefix: `${config.redisKeyPrefix}rt:` })
    : new MemoryRoutingStore();

  // The HTTP server exists before its handler: Socket.IO attaches to it, the engine needs
  // Socket.IO's notifier, and the REST routes need the engine. The handler is bound late
  // but registered first, so Socket.IO (which wraps existing listeners) keeps its paths.
  let handle: http.RequestListener = (_req, res) => {
    res.statusCode = 503;
    res.end();
  };
  const httpServer = http.createServer((req, res) => handle(req, res));
  httpServer.keepAliveTimeout = 65_000;
  const sockets = await createSocketGateway(httpServer, ctx);
  const statsHistory = createStatsHistory({
    source: { stats: () => engine.stats() },
    clock,
    logger,
    redis: redisCommands,
    prefix: config.redisKeyPrefix,
  });
  const twilio = createTwilioProvider(
    config.twilio,
    logger,
    overrides.twilioRetry ? { retry: overrides.twilioRetry } : {},
  );
  const directory = createDirectory(repos, (id) => vetIdentity(config.twilio.vetAppId, id), clock);
  const engine = new ConsultationEngine({
    store,
    ledger: repos.ledger,
    chat: repos.chat,
    notifier: sockets.notifier,
    directory,
    tokens: ctx.tokens,
    twilio,
    clock,
    logger,
    nodeId,
    routing: config.routing,
    outcomes: config.outcomes,
    onNodeReaped: () => sockets.disconnectLocal(),
    localConnections: () => sockets.localConnections(),
    observer: {
      matched: (ms) => {
        metrics.matchLatency.observe(ms / 1000);
        statsHistory.recordMatch(ms);
      },
      offer: (outcome) => metrics.offers.inc({ outcome }),
      finished: (status) => metrics.consultations.inc({ outcome: status }),
      ledgerWriteRetry: () => metrics.historyWriteRetries.inc(),
      ledgerWriteFailure: (reason) => metrics.historyWriteFailures.inc({ reason }),
      rebuilt: () => metrics.rebuilds.inc(),
    },
    isStorageUnavailable: isDatabaseUnavailable,
  });
  sockets.bind(engine);
  // Disabling a vet closes their sockets on every node (the Redis adapter relays it) and hands
  // their consultations over; deleting a user ends theirs and closes their sockets likewise.
  const vetSessions = {
    disconnectVet: (id: number) => {
      // Told why first (PROTOCOL §7: a revoked console must not reconnect), then closed.
      const vets = sockets.io.of("/vet");
      vets.to(vetRoom(id)).emit("session:closed", { reason: "revoked" });
      vets.in(vetRoom(id)).disconnectSockets(true);
    },
    vetDisabled: (id: number) => engine.vetDisabled(id),
    vetSkillsChanged: (id: number, skills: VetSkills) => {
      directory.forgetVet(id);
      return engine.vetSkillsChanged(id, skills);
    },
  };
  const userSessions = {
    userDeleted: async (appId: number, userId: number) => {
      await engine.userDeleted(appId, userId);
      sockets.io.of("/user").in(userRoom(appId, userId)).disconnectSockets(true);
    },
  };
  // Every console polls its queue bar: the whole-queue read they need is made at most once a
  // second per node, however many poll; the longest wait is counted at each call.
  const queueForConsoles = sharedRead(() => store.snapshot(), VET_QUEUE_MAX_AGE_MS, clock);
  const stats = {
    stats: () => engine.stats(),
    history: () => statsHistory.history(),
    vetQueue: async () => vetQueueOf(await queueForConsoles(), clock.now(), config.routing.vetMaxConsults),
    offeredPet: (vetId: number) => engine.offeredPet(vetId),
  };
  const app = createHttpApp(ctx, [createConsultationRouter(ctx, engine)], stats, vetSessions, userSessions);
  handle = app;

  let ticking = false;
  const tickMs = overrides.tickMs ?? TICK_MS;
  const timer =
    tickMs > 0
      ? setInterval(() => {
          if (ticking) return;
          ticking = true;
          engine
            .tick()
            .catch((err: unknown) => logger.error({ err }, "tick failed"))
            .finally(() => (ticking = false));
        }, tickMs)
      : null;
  timer?.unref();
  const statsTimer = setInterval(() => void statsHistory.tick(), STATS_TICK_MS);
  statsTimer.unref();
  // Closed days' statistics are computed ahead of the dashboards asking (ops/stats-summary.ts).
  const summary = new StatsSummary(database.db, clock);
  const closeDays = () => {
    const today = clock.now();
    const days = daysBetween(
      new Date(today - 400 * 86_400_000).toISOString().slice(0, 10),
      new Date(today).toISOString().slice(0, 10),
    );
    summary.closedDays(days).catch((err: unknown) => logger.warn({ err }, "closing statistics days failed"));
  };
  const statsCloseTimer = setInterval(closeDays, STATS_CLOSE_EVERY_MS);
  statsCloseTimer.unref();
  const revocationTimer = setInterval(() => {
    sockets.sweepRevokedVets().catch((err: unknown) => logger.warn({ err }, "revocation sweep failed"));
  }, REVOCATION_SWEEP_MS);
  revocationTimer.unref();
  if (tickMs > 0) webhooks.start();
  // First heartbeat before serving, so other nodes never see this node's vets without it.
  await engine.tick();
  await statsHistory.tick();

  let closed = false;
  const close = async (draining = false) => {
    if (closed) return;
    closed = true;
    ctx.tarpit.close();
    if (timer) clearInterval(timer);
    clearInterval(statsTimer);
    clearInterval(revocationTimer);
    clearInterval(statsCloseTimer);
    // Closing Socket.IO closes the HTTP server too.
    const httpClosed = new Promise<void>((resolve) => httpServer.close(() => resolve()));
    await sockets.close({ draining });
    httpServer.closeAllConnections();
    await httpClosed;
    await engine.close();
    await webhooks.close();
    await statsHistory.close();
    await store.close();
    for (const c of closers.reverse()) await c().catch((err: unknown) => logger.warn({ err }, "close failed"));
  };

  return {
    ctx,
    httpServer,
    engine,
    sockets,
    webhooks,
    listen: () =>
      new Promise<AddressInfo>((resolve, reject) => {
        httpServer.once("error", reject);
        httpServer.listen(config.port, config.host, () => resolve(httpServer.address() as AddressInfo));
      }),
    drain: async () => {
      // Stop accepting, answer the requests held in the tarpit, hand this node's vets and
      // offers to the other nodes, then close.
      httpServer.close();
      ctx.tarpit.close();
      httpServer.closeIdleConnections();
      if (timer) clearInterval(timer);
      await engine.drain();
      await close(true);
    },
    close: () => close(false),
  };
}
