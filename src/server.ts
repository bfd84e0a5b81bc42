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
import type { GatewayContext } from "./context.js";
import { openDatabase, type Database } from "./db/database.js";
import { createHttpApp } from "./http/app.js";
import { systemClock, type Clock } from "./lib/clock.js";
import { createLogger, type Logger } from "./lib/logger.js";
import { createMetrics } from "./ops/metrics.js";
import { createRepositories } from "./repositories/index.js";
import { createAccessTokenIssuer } from "./twilio/access-tokens.js";

/** Test and embedding hooks; production uses the defaults. */
export interface GatewayOverrides {
  logger?: Logger;
  clock?: Clock;
  /** Share one open database between gateways (e.g. two nodes in one test). */
  database?: Database;
  nodeId?: string;
}

/** A built gateway: listen, drain (SIGTERM) and close. */
export interface Gateway {
  readonly ctx: GatewayContext;
  readonly httpServer: http.Server;
  /** Starts listening on `config.port` (0 picks a free port); resolves to the bound address. */
  listen(): Promise<AddressInfo>;
  /** Graceful shutdown: stop accepting, hand back this node's vets and offers, close. */
  drain(): Promise<void>;
  /** Immediate teardown of every resource (tests). */
  close(): Promise<void>;
}

export async function buildGateway(config: Config, overrides: GatewayOverrides = {}): Promise<Gateway> {
  const logger = overrides.logger ?? createLogger(config.logLevel);
  const clock = overrides.clock ?? systemClock;
  const nodeId = overrides.nodeId ?? `node-${randomBytes(6).toString("hex")}`;
  const closers: Array<() => Promise<unknown>> = [];

  const ownsDatabase = !overrides.database;
  const database =
    overrides.database ??
    (await openDatabase({ url: config.databaseUrl, pgliteDir: path.join(config.dataDir, "pglite") }));
  if (ownsDatabase) closers.push(() => database.close());

  let redis: RedisClientType | null = null;
  if (config.redisUrl) {
    redis = createClient({ url: config.redisUrl });
    redis.on("error", (err: unknown) => logger.warn({ err }, "redis client error"));
    await redis.connect();
    const client = redis;
    closers.push(() => client.quit().catch(() => client.destroy()));
  }

  const mediaDir = path.resolve(config.dataDir, "media");
  mkdirSync(mediaDir, { recursive: true });

  const repos = createRepositories(database.db);
  const metrics = createMetrics();
  const ctx: GatewayContext = {
    config,
    logger,
    clock,
    nodeId,
    database,
    repos,
    redis,
    metrics,
    accessTokens: createAccessTokenIssuer(config.twilio, clock),
    socketTokens: new SocketTokens(config.gatewaySecret, config.socketTokenTtlS, clock),
    appAuth: createAppAuthenticator(repos.apps),
    mediaDir,
  };

  const app = createHttpApp(ctx);
  const httpServer = http.createServer(app);
  httpServer.keepAliveTimeout = 65_000;

  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    await new Promise<void>((resolve) => {
      httpServer.close(() => resolve());
      httpServer.closeAllConnections();
    });
    for (const c of closers.reverse()) await c().catch((err: unknown) => logger.warn({ err }, "close failed"));
  };

  return {
    ctx,
    httpServer,
    listen: () =>
      new Promise<AddressInfo>((resolve, reject) => {
        httpServer.once("error", reject);
        httpServer.listen(config.port, config.host, () => resolve(httpServer.address() as AddressInfo));
      }),
    drain: async () => {
      httpServer.closeIdleConnections();
      await close();
    },
    close,
  };
}
