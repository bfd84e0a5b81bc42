/** Process entry: configuration, the gateway, and signal handling. */
import path from "node:path";
import { GATEWAY_SECRET_FILE } from "./auth/gateway-secret.js";
import { ConfigError, loadConfig } from "./config.js";
import { createLogger } from "./lib/logger.js";
import { buildGateway } from "./server.js";

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
  const logger = createLogger(config.logLevel);
  if (!config.gatewaySecret) {
    logger.info(
      { file: path.join(config.dataDir, GATEWAY_SECRET_FILE) },
      "GATEWAY_SECRET is unset: this node signs sessions with the secret kept in DATA_DIR (made on first start)",
    );
  }
  const gateway = await buildGateway(config, { logger });
  const address = await gateway.listen();
  logger.info(
    {
      port: address.port,
      node: gateway.ctx.nodeId,
      database: gateway.ctx.database.kind,
      presence: config.redisUrl ? "redis" : "memory",
      twilio: config.twilio.mode,
    },
    "gateway listening",
  );

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, "draining");
    // Exit even if something hangs: the drain must finish within the shutdown budget.
    setTimeout(() => {
      logger.error("drain timed out");
      process.exit(1);
    }, config.shutdownTimeoutMs).unref();
    gateway
      .drain()
      .then(() => {
        logger.info("drained");
        process.exit(0);
      })
      .catch((err: unknown) => {
        logger.error({ err }, "drain failed");
        process.exit(1);
      });
  };
  // A socket server must not die of one stray rejection (e.g. a publish racing shutdown):
  // log it loudly and keep serving.
  process.on("unhandledRejection", (err: unknown) => logger.error({ err }, "unhandled rejection"));
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
}

main().catch((err: unknown) => {
  process.stderr.write(`fatal: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
