/**
 * Builds real gateways for integration tests: real HTTP on an ephemeral port, PostgreSQL
 * (a fresh database per call) or PGlite in memory, and optionally Redis under a unique prefix.
 */
import os from "node:os";
import path from "node:path";
import { mkdtempSync, rmSync } from "node:fs";
import { loadConfig, type Config } from "../../src/config.js";
import { openDatabase, type Database } from "../../src/db/database.js";
import { createLogger, type Logger } from "../../src/lib/logger.js";
import type { Clock } from "../../src/lib/clock.js";
import { buildGateway, type Gateway } from "../../src/server.js";
import { checkRestResponse } from "./reference-validator.js";
import { cleanRedisPrefix, createTestDatabase, REDIS_URL, uniqueRedisPrefix } from "./services.js";
import { startTcpProxy, type TcpProxy } from "./tcp-proxy.js";

export const TEST_ADMIN_TOKEN = "test-admin-token-0123456789abcdef";
/** Test gateways share one secret (nodes on one Redis must); `test/auth/gateway-secret.test.ts` covers the generated one. */
export const TEST_GATEWAY_SECRET = "test-gateway-secret-0123456789abcdef-0123";

export interface TestGatewayOptions {
  /** "postgres" (default): a fresh PostgreSQL database; "pglite": in-memory PGlite. */
  db?: "postgres" | "pglite";
  /** Use Redis for presence, queue and rate limits. */
  redis?: boolean;
  /** Extra environment, e.g. `{ OFFER_TIMEOUT_MS: "500" }`. */
  env?: Record<string, string>;
  clock?: Clock;
  /** Number of gateway nodes sharing the database and Redis. */
  nodes?: number;
  /** Twilio retry policy (live-mode tests shorten the backoff). */
  twilioRetry?: { attempts: number; baseDelayMs: number };
  /** Where the gateways log (default: silent, or `TEST_LOG_LEVEL`). */
  logger?: Logger;
}

export interface TestGateway {
  /** Base URL of node 0, e.g. `http://127.0.0.1:43123`. */
  url: string;
  urls: string[];
  gateway: Gateway;
  gateways: Gateway[];
  config: Config;
  database: Database;
  redisPrefix: string | null;
  close(): Promise<void>;
}

/** The environment every test gateway starts from: test mode, a free port, silent logs (unless `TEST_LOG_LEVEL`), its own `DATA_DIR`, the test secret. */
export function testEnv(dataDir: string): Record<string, string> {
  return {
    NODE_ENV: "test",
    PORT: "0",
    HOST: "127.0.0.1",
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? "silent",
    DATA_DIR: dataDir,
    GATEWAY_SECRET: TEST_GATEWAY_SECRET,
  };
}

export async function startTestGateway(opts: TestGatewayOptions = {}): Promise<TestGateway> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), "vcg-test-"));
  const tdb = opts.db === "pglite" ? null : await createTestDatabase("gw");
  const redisPrefix = opts.redis ? uniqueRedisPrefix("gw") : null;
  const config = loadConfig({
    ...testEnv(dataDir),
    ADMIN_TOKEN: TEST_ADMIN_TOKEN,
    ...(tdb ? { DATABASE_URL: tdb.url } : {}),
    ...(redisPrefix ? { REDIS_URL, REDIS_KEY_PREFIX: redisPrefix } : {}),
    ...opts.env,
  });
  const database = await openDatabase({ url: config.databaseUrl, pgliteDir: "memory://" });
  const logger = opts.logger ?? createLogger(config.logLevel);
  const gateways: Gateway[] = [];
  const urls: string[] = [];
  for (let i = 0; i < (opts.nodes ?? 1); i++) {
    const gw = await buildGateway(config, {
      logger,
      database,
      ...(opts.clock ? { clock: opts.clock } : {}),
      ...(opts.twilioRetry ? { twilioRetry: opts.twilioRetry } : {}),
    });
    const addr = await gw.listen();
    gateways.push(gw);
    urls.push(`http://127.0.0.1:${addr.port}`);
  }
  return {
    url: urls[0],
    urls,
    gateway: gateways[0],
    gateways,
    config,
    database,
    redisPrefix,
    async close() {
      for (const gw of gateways) await gw.close();
      await database.close();
      if (tdb) await tdb.drop();
      if (redisPrefix) await cleanRedisPrefix(redisPrefix);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** `Authorization: Basic` header value for an app. */
export function basicAuth(nameOrId: string | number, secret: string): string {
  return `Basic ${Buffer.from(`${nameOrId}:${secret}`).toString("base64")}`;
}

/** A logger that keeps every line it writes (parsed), for tests that read what was logged. */
export function capturingLogger(level = "info"): { logger: Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const logger = createLogger(level, {
    write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>),
  });
  return { logger, lines };
}

/** JSON request helper returning status, headers and the parsed envelope (checked against `/openapi.json`). */
export async function request(
  base: string,
  method: string,
  urlPath: string,
  opts: { body?: unknown; headers?: Record<string, string>; raw?: string | Buffer } = {},
): Promise<{ status: number; headers: Headers; body: any }> {
  const headers: Record<string, string> = { accept: "application/json", ...opts.headers };
  let body: string | Buffer | undefined;
  if (opts.raw !== undefined) body = opts.raw;
  else if (opts.body !== undefined) {
    body = JSON.stringify(opts.body);
    headers["content-type"] ??= "application/json";
  }
  const res = await fetch(base + urlPath, { method, headers, body });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    /* non-JSON body stays text */
  }
  // Every answer a test receives must match /openapi.json for its route and status.
  checkRestResponse(method, urlPath, res.status, res.headers.get("content-type"), parsed);
  return { status: res.status, headers: res.headers, body: parsed };
}

/** A gateway whose PostgreSQL is reached through a TCP proxy the test can cut (PROTOCOL §6 faults). */
export interface GatewayBehindProxy {
  gw: Gateway;
  url: string;
  proxy: TcpProxy;
  /** Restores the proxy, stops the gateway and the proxy, drops the database, removes DATA_DIR. */
  close(): Promise<void>;
}

/**
 * Starts a gateway on a fresh test database behind a TCP proxy, with `env` over the test
 * defaults (`NODE_ENV=test`, port 0, silent logs, its own `DATA_DIR`).
 */
export async function startGatewayBehindDbProxy(
  label: string,
  env: Record<string, string> = {},
  logger?: Logger,
): Promise<GatewayBehindProxy> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), `vcg-${label}-`));
  const tdb = await createTestDatabase(label);
  const target = new URL(tdb.url);
  const proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 5432) });
  const config = loadConfig({
    ...testEnv(dataDir),
    DATABASE_URL: proxy.url(tdb.url),
    ...env,
  });
  const gw = await buildGateway(config, { logger: logger ?? createLogger(config.logLevel) });
  const url = `http://127.0.0.1:${(await gw.listen()).port}`;
  return {
    gw,
    url,
    proxy,
    async close() {
      proxy.restore();
      await gw.close();
      await proxy.close();
      await tdb.drop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
