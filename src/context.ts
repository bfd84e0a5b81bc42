import type { OutageLog } from "./lib/outage-log.js";
import type { RedisClientType } from "redis";
import type { RedisCommands } from "./lib/redis-commands.js";
import type { AppAuthenticator } from "./auth/app-auth.js";
import type { SocketTokens } from "./auth/socket-tokens.js";
import type { ResolvedConfig } from "./config.js";
import type { VetLogin } from "./auth/vet-sessions.js";
import type { WebhookService } from "./webhooks/service.js";
import type { Database } from "./db/database.js";
import type { Clock } from "./lib/clock.js";
import type { Logger } from "./lib/logger.js";
import type { Metrics } from "./ops/metrics.js";
import type { Repositories } from "./repositories/index.js";
import type { AccessTokenIssuer } from "./twilio/access-tokens.js";
import type { TokenMinter } from "./domain/ports.js";
import type { Tarpit } from "./http/tarpit.js";

/**
 * The services of one gateway instance, built once in `server.ts` (the composition root)
 * and handed to the transports. Nothing here is a module-level singleton.
 */
export interface GatewayContext {
  readonly config: ResolvedConfig;
  readonly logger: Logger;
  /** Warnings of an expected outage (database or Redis away), aggregated per kind and cause. */
  readonly outages: OutageLog;
  readonly clock: Clock;
  /** Unique per process start; names this node in the routing store. */
  readonly nodeId: string;
  readonly database: Database;
  readonly repos: Repositories;
  /** Shared client when `REDIS_URL` is set (Socket.IO duplicates it for pub/sub). */
  readonly redis: RedisClientType | null;
  /** Its commands with `REDIS_COMMAND_TIMEOUT_MS` applied: what everything else sends through. */
  readonly redisCommands: RedisCommands | null;
  readonly metrics: Metrics;
  readonly accessTokens: AccessTokenIssuer;
  /** Tokens for the §1 identities of owners and vets (REST, sockets and the engine alike). */
  readonly tokens: TokenMinter;
  readonly socketTokens: SocketTokens;
  readonly appAuth: AppAuthenticator;
  /** Vet password logins (scrypt under the node's cap shared with `appAuth`). */
  readonly vetLogin: VetLogin;
  /** Partner webhooks (PROTOCOL §9): settings, the delivery log, hand retries. */
  readonly webhooks: WebhookService;
  /** Holds refusals of addresses that keep sending over their limit; closed on shutdown. */
  readonly tarpit: Tarpit;
  /** Absolute directory where uploaded pet images are stored and served from. */
  readonly mediaDir: string;
}
