/**
 * Gateways on a throwaway Redis (PROTOCOL §6 faults): the Redis can be restarted empty, and,
 * with `proxy`, be reached through a TCP proxy the test can cut.
 */
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { loadConfig } from "../../src/config.js";
import { openDatabase, type Database } from "../../src/db/database.js";
import { createLogger } from "../../src/lib/logger.js";
import { buildGateway, type Gateway } from "../../src/server.js";
import { testEnv } from "./gateway.js";
import { startThrowawayRedis, type ThrowawayRedis } from "./redis-server.js";
import { createTestDatabase } from "./services.js";
import { startTcpProxy, type TcpProxy } from "./tcp-proxy.js";

export interface GatewaysOnThrowawayRedis {
  gws: Gateway[];
  urls: string[];
  redis: ThrowawayRedis;
  /** Between the gateways and Redis when asked for; else null. */
  proxy: TcpProxy | null;
  /** The database the nodes share (several nodes); null for one node, which opens its own. */
  database: Database | null;
  /** Restores the proxy, stops the gateways, the proxy and Redis, drops the database, removes DATA_DIR. */
  close(): Promise<void>;
}

/**
 * Starts `nodes` gateways (default 1) on a fresh test database and a throwaway Redis, with
 * `env` over {@link testEnv} and `REDIS_COMMAND_TIMEOUT_MS=1000`.
 */
export async function startGatewaysOnThrowawayRedis(
  label: string,
  env: Record<string, string> = {},
  opts: { nodes?: number; proxy?: boolean } = {},
): Promise<GatewaysOnThrowawayRedis> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), `vcg-${label}-`));
  const tdb = await createTestDatabase(label);
  const redis = await startThrowawayRedis();
  const proxy = opts.proxy ? await startTcpProxy({ host: "127.0.0.1", port: redis.port }) : null;
  const config = loadConfig({
    ...testEnv(dataDir),
    DATABASE_URL: tdb.url,
    REDIS_URL: proxy ? proxy.url(redis.url) : redis.url,
    REDIS_COMMAND_TIMEOUT_MS: "1000",
    ...env,
  });
  const nodes = opts.nodes ?? 1;
  const database = nodes > 1 ? await openDatabase({ url: config.databaseUrl, pgliteDir: "memory://" }) : null;
  const gws: Gateway[] = [];
  const urls: string[] = [];
  for (let i = 0; i < nodes; i++) {
    const gw = await buildGateway(config, { ...(database ? { database } : {}), logger: createLogger(config.logLevel) });
    gws.push(gw);
    urls.push(`http://127.0.0.1:${(await gw.listen()).port}`);
  }
  return {
    gws,
    urls,
    redis,
    proxy,
    database,
    async close() {
      proxy?.restore();
      for (const gw of gws) await gw.close();
      await database?.close();
      await proxy?.close();
      await redis.stop();
      await tdb.drop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
