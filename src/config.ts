import { z } from "zod";
import type { RoutingConfig } from "./domain/engine-config.js";
import { DEFAULT_OUTCOMES, OUTCOME_ID } from "./domain/outcomes.js";

const int = (def: number, min = 0, max = Number.MAX_SAFE_INTEGER) =>
  z.coerce.number().int().min(min).max(max).default(def);

const optionalString = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === "" ? undefined : v.trim()));

/**
 * Offline-mode Twilio identifiers: well-formed, and Twilio would refuse them. There is no
 * offline API secret here: one is derived from the gateway secret (`auth/gateway-secret.ts`).
 */
export const DEV_TWILIO = {
  accountSid: "AC00000000000000000000000000000000",
  apiKey: "SK00000000000000000000000000000000",
  chatServiceSid: "IS00000000000000000000000000000000",
  pushCredentialSid: "CR00000000000000000000000000000000",
} as const;

/** Shortest `GATEWAY_SECRET`, `ADMIN_TOKEN` and `METRICS_TOKEN` accepted. */
export const MIN_SECRET_LENGTH = 32;

/**
 * `OUTCOMES`: a comma-separated list of lower-case identifiers (spaces around commas
 * ignored), at least one, none twice.
 */
const outcomesList = z
  .string()
  .default(DEFAULT_OUTCOMES.join(","))
  .transform((v) => v.split(",").map((o) => o.trim()))
  .superRefine((list, ctx) => {
    const bad = list.filter((o) => !OUTCOME_ID.test(o));
    if (list.length === 1 && list[0] === "")
      ctx.addIssue({ code: "custom", message: "must list at least one outcome" });
    else if (bad.length > 0)
      ctx.addIssue({
        code: "custom",
        message: `must be lower-case identifiers (a-z, 0-9, _; starting with a letter), not ${bad.map((b) => JSON.stringify(b)).join(", ")}`,
      });
    const dup = list.filter((o, i) => list.indexOf(o) !== i);
    if (dup.length > 0)
      ctx.addIssue({ code: "custom", message: `lists ${[...new Set(dup)].join(", ")} more than once` });
  });

/** Every environment variable the gateway reads; the configuration table of docs/operations.md mirrors it. */
export const configSchema = z
  .object({
    NODE_ENV: z.enum(["development", "production", "test"]).default("development"),
    PORT: int(3000, 0, 65535),
    HOST: z.string().default("0.0.0.0"),
    PUBLIC_URL: optionalString,
    LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
    // A hop count, never `true`: trusting every hop lets a client forge its address.
    TRUST_PROXY: z
      .string()
      .regex(/^\d{1,2}$/, "must be a hop count (0, 1, 2, …), not true/false")
      .default("0")
      .transform(Number),

    DATABASE_URL: optionalString,
    DATABASE_TIMEOUT_MS: int(5_000, 0),
    DATA_DIR: z.string().default("./data"),
    REDIS_URL: optionalString,
    REDIS_KEY_PREFIX: z.string().default("vcg:"),
    REDIS_COMMAND_TIMEOUT_MS: int(5_000, 0),

    ADMIN_TOKEN: optionalString,
    METRICS_TOKEN: optionalString,
    GATEWAY_SECRET: optionalString,
    SOCKET_TOKEN_TTL_S: int(3600, 60, 7 * 86400),
    VET_SESSION_MAX_S: int(43_200, 60, 30 * 86400),
    RATE_LIMIT_PER_MIN: int(200, 1),
    RATE_LIMIT_UNAUTH_PER_MIN: int(60, 1),
    RATE_LIMIT_TARPIT_MS: int(1_000, 0, 60_000),
    RATE_LIMIT_TARPIT_MAX: int(1_000, 1, 100_000),
    CORS_ORIGINS: optionalString,
    SOCKET_EVENTS_PER_S: int(10, 1),
    SOCKET_FLOOD_DISCONNECT_S: int(10, 1),
    MAX_SOCKETS_PER_USER: int(5, 1),
    MAX_SOCKETS_PER_VET: int(10, 1),

    // Capped rather than refused: the contract says "at most 86400".
    TOKEN_TTL_S: int(3600, 1).transform((v) => Math.min(v, 86_400)),
    TWILIO_MODE: z.enum(["offline", "live"]).default("offline"),
    TWILIO_API_BASE_URL: optionalString.pipe(z.url().optional()),
    TWILIO_ACCOUNT_SID: optionalString,
    TWILIO_API_KEY: optionalString,
    TWILIO_API_SECRET: optionalString,
    TWILIO_CHAT_SERVICE_SID: optionalString,
    TWILIO_PUSH_CREDENTIAL_SID: optionalString,
    TWILIO_IDENTITY_PREFIX: z.string().min(1).default("local"),
    VET_APP_ID: int(1, 0),

    VET_MAX_CONSULTS: int(1, 1, 100),
    MAX_QUEUED_PER_APP: int(0, 0, 1_000_000),
    OFFER_TIMEOUT_MS: int(30_000, 100),
    QUEUE_TIMEOUT_MS: int(600_000, 100),
    USER_GRACE_MS: int(60_000, 0),
    PRESENCE_TTL_MS: int(15_000, 500),
    WRAPUP_MS: int(60_000, 0),
    VET_GRACE_MS: int(60_000, 0),
    LANGUAGE_WAIT_MS: int(60_000, 0),
    PRIORITY_AGING_MS: int(300_000, 0),
    LICENSING: z.enum(["off", "on"]).default("off"),
    LICENSE_WAIT_MS: int(120_000, 0),
    TRANSFER_TIMEOUT_MS: int(120_000, 100),
    SHUTDOWN_TIMEOUT_MS: int(10_000, 100),
    WEBHOOK_RETRY_BASE_MS: int(5_000, 10, 3_600_000),
    WEBHOOK_RETRY_WINDOW_S: int(86_400, 1, 7 * 86_400),
    WEBHOOK_RETENTION_DAYS: int(7, 1, 365),
    WEBHOOK_ALLOW_PRIVATE: z.enum(["true", "false"]).optional(),
    OUTCOMES: outcomesList,
    DEMO: z.enum(["0", "1", "true", "false"]).default("0"),
  })
  .superRefine((c, ctx) => {
    if (c.NODE_ENV === "production" && !c.GATEWAY_SECRET) {
      ctx.addIssue({ code: "custom", path: ["GATEWAY_SECRET"], message: "is required when NODE_ENV=production" });
    }
    // Every node must sign and check tokens with one secret; a generated one is per node.
    if (c.REDIS_URL && !c.GATEWAY_SECRET) {
      ctx.addIssue({
        code: "custom",
        path: ["GATEWAY_SECRET"],
        message: "is required with REDIS_URL (all nodes must share one secret)",
      });
    }
    for (const name of ["GATEWAY_SECRET", "ADMIN_TOKEN", "METRICS_TOKEN"] as const) {
      const value = c[name];
      if (value !== undefined && value.length < MIN_SECRET_LENGTH) {
        ctx.addIssue({
          code: "custom",
          path: [name],
          message: `must be at least ${String(MIN_SECRET_LENGTH)} characters`,
        });
      }
    }
    if (c.NODE_ENV === "production" && (c.DEMO === "1" || c.DEMO === "true")) {
      ctx.addIssue({
        code: "custom",
        path: ["DEMO"],
        message: "is refused when NODE_ENV=production (demo logins are published)",
      });
    }
    if (c.TWILIO_MODE === "live" && (!c.TWILIO_ACCOUNT_SID || !c.TWILIO_API_KEY || !c.TWILIO_API_SECRET)) {
      ctx.addIssue({
        code: "custom",
        path: ["TWILIO_MODE"],
        message: "live needs TWILIO_ACCOUNT_SID, TWILIO_API_KEY and TWILIO_API_SECRET",
      });
    }
  });

/** Validated, normalised configuration handed to the composition root. */
export interface Config {
  env: "development" | "production" | "test";
  port: number;
  host: string;
  publicUrl: string | undefined;
  logLevel: string;
  /** Reverse-proxy hops in front of the gateway whose `X-Forwarded-For` entries are trusted. */
  trustProxy: number;
  databaseUrl: string | undefined;
  /** Connection and statement deadline on PostgreSQL, and the `/readyz` database check (0: none). */
  databaseTimeoutMs: number;
  dataDir: string;
  redisUrl: string | undefined;
  redisKeyPrefix: string;
  /** A Redis command not answered within this fails (0: wait forever). */
  redisCommandTimeoutMs: number;
  adminToken: string | undefined;
  /** `METRICS_TOKEN`: a second bearer token `/metrics` accepts (for a scraper that must not administer). */
  metricsToken: string | undefined;
  /**
   * `GATEWAY_SECRET` as set; unset on a single embedded node, `buildGateway` generates one
   * and keeps it in `DATA_DIR` (see {@link ResolvedConfig}).
   */
  gatewaySecret: string | undefined;
  socketTokenTtlS: number;
  /** `VET_SESSION_MAX_S`: a renewed vet token never outlives this from the password login. */
  vetSessionMaxS: number;
  rateLimitPerMin: number;
  /** Failed authentications and `media-url` calls per client address per minute. */
  rateLimitUnauthPerMin: number;
  /** Refusals of an address that keeps sending over `rateLimitUnauthPerMin` (see `http/tarpit.ts`). */
  tarpit: {
    /** `RATE_LIMIT_TARPIT_MS`: such a refusal is answered after this long; 0 = at once. */
    delayMs: number;
    /** `RATE_LIMIT_TARPIT_MAX`: most requests held at once per node; beyond, answered at once. */
    maxHeld: number;
  };
  /** Browser origins allowed for REST and Socket.IO; empty → same origin only. */
  corsOrigins: string[];
  sockets: {
    /** Sustained events per second per socket (bursts up to twice that). */
    eventsPerS: number;
    /** A socket refused for this long without a quiet second is disconnected. */
    floodDisconnectS: number;
    maxPerUser: number;
    maxPerVet: number;
  };
  twilio: {
    mode: "offline" | "live";
    apiBaseUrl: string | undefined;
    accountSid: string;
    apiKey: string;
    /** Required in live mode; offline, derived from the gateway secret (see {@link ResolvedConfig}). */
    apiSecret: string | undefined;
    chatServiceSid: string;
    pushCredentialSid: string;
    tokenTtlS: number;
    identityPrefix: string;
    vetAppId: number;
  };
  routing: RoutingConfig;
  shutdownTimeoutMs: number;
  /** Partner webhooks (PROTOCOL §9). */
  webhooks: {
    /** `WEBHOOK_RETRY_BASE_MS`: the first retry waits about this long; each further one twice as long (capped at 1 h). */
    retryBaseMs: number;
    /** `WEBHOOK_RETRY_WINDOW_S` in ms: an event is retried this long after it happened, then `failed`. */
    retryWindowMs: number;
    /** `WEBHOOK_RETENTION_DAYS`: delivered and failed events are pruned after this. */
    retentionDays: number;
    /** Deliveries may go to private, loopback and link-local addresses (default: outside production). */
    allowPrivate: boolean;
    /** Webhook URLs must be `https` (production). */
    httpsOnly: boolean;
  };
  /** `OUTCOMES`: the outcomes a vet's feedback may give (PROTOCOL §10), in the console's order. */
  outcomes: readonly string[];
  /** `DEMO=1`: seed the demo app, vets and owners and serve `/demo/v1` (PROTOCOL §8). */
  demo: boolean;
}

/** A {@link Config} whose secrets are settled: what the running gateway holds (`ctx.config`). */
export type ResolvedConfig = Omit<Config, "gatewaySecret" | "twilio"> & {
  gatewaySecret: string;
  twilio: Omit<Config["twilio"], "apiSecret"> & { apiSecret: string };
};

/** Thrown when the environment is invalid; `message` is one readable line. */
export class ConfigError extends Error {}

/** Parses an environment (default `process.env`) into a {@link Config}, or throws {@link ConfigError}. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const parsed = configSchema.safeParse(env);
  if (!parsed.success) {
    const line = parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ");
    throw new ConfigError(`invalid configuration: ${line}`);
  }
  const c = parsed.data;
  return {
    env: c.NODE_ENV,
    port: c.PORT,
    host: c.HOST,
    publicUrl: c.PUBLIC_URL,
    logLevel: c.LOG_LEVEL,
    trustProxy: c.TRUST_PROXY,
    databaseUrl: c.DATABASE_URL,
    databaseTimeoutMs: c.DATABASE_TIMEOUT_MS,
    dataDir: c.DATA_DIR,
    redisUrl: c.REDIS_URL,
    redisKeyPrefix: c.REDIS_KEY_PREFIX,
    redisCommandTimeoutMs: c.REDIS_COMMAND_TIMEOUT_MS,
    adminToken: c.ADMIN_TOKEN,
    metricsToken: c.METRICS_TOKEN,
    gatewaySecret: c.GATEWAY_SECRET,
    socketTokenTtlS: c.SOCKET_TOKEN_TTL_S,
    vetSessionMaxS: c.VET_SESSION_MAX_S,
    rateLimitPerMin: c.RATE_LIMIT_PER_MIN,
    rateLimitUnauthPerMin: c.RATE_LIMIT_UNAUTH_PER_MIN,
    tarpit: { delayMs: c.RATE_LIMIT_TARPIT_MS, maxHeld: c.RATE_LIMIT_TARPIT_MAX },
    corsOrigins: (c.CORS_ORIGINS ?? "")
      .split(",")
      .map((o) => o.trim().replace(/\/+$/, ""))
      .filter((o) => o.length > 0),
    sockets: {
      eventsPerS: c.SOCKET_EVENTS_PER_S,
      floodDisconnectS: c.SOCKET_FLOOD_DISCONNECT_S,
      maxPerUser: c.MAX_SOCKETS_PER_USER,
      maxPerVet: c.MAX_SOCKETS_PER_VET,
    },
    twilio: {
      mode: c.TWILIO_MODE,
      apiBaseUrl: c.TWILIO_API_BASE_URL,
      accountSid: c.TWILIO_ACCOUNT_SID ?? DEV_TWILIO.accountSid,
      apiKey: c.TWILIO_API_KEY ?? DEV_TWILIO.apiKey,
      apiSecret: c.TWILIO_API_SECRET,
      chatServiceSid: c.TWILIO_CHAT_SERVICE_SID ?? DEV_TWILIO.chatServiceSid,
      pushCredentialSid: c.TWILIO_PUSH_CREDENTIAL_SID ?? DEV_TWILIO.pushCredentialSid,
      tokenTtlS: c.TOKEN_TTL_S,
      identityPrefix: c.TWILIO_IDENTITY_PREFIX,
      vetAppId: c.VET_APP_ID,
    },
    routing: {
      vetMaxConsults: c.VET_MAX_CONSULTS,
      offerTimeoutMs: c.OFFER_TIMEOUT_MS,
      queueTimeoutMs: c.QUEUE_TIMEOUT_MS,
      userGraceMs: c.USER_GRACE_MS,
      presenceTtlMs: c.PRESENCE_TTL_MS,
      wrapupMs: c.WRAPUP_MS,
      vetGraceMs: c.VET_GRACE_MS,
      languageWaitMs: c.LANGUAGE_WAIT_MS,
      priorityAgingMs: c.PRIORITY_AGING_MS,
      maxQueuedPerApp: c.MAX_QUEUED_PER_APP,
      licensing: c.LICENSING === "on",
      licenseWaitMs: c.LICENSE_WAIT_MS,
      transferTimeoutMs: c.TRANSFER_TIMEOUT_MS,
    },
    shutdownTimeoutMs: c.SHUTDOWN_TIMEOUT_MS,
    webhooks: {
      retryBaseMs: c.WEBHOOK_RETRY_BASE_MS,
      retryWindowMs: c.WEBHOOK_RETRY_WINDOW_S * 1000,
      retentionDays: c.WEBHOOK_RETENTION_DAYS,
      allowPrivate:
        c.WEBHOOK_ALLOW_PRIVATE === undefined ? c.NODE_ENV !== "production" : c.WEBHOOK_ALLOW_PRIVATE === "true",
      httpsOnly: c.NODE_ENV === "production",
    },
    outcomes: c.OUTCOMES,
    demo: c.DEMO === "1" || c.DEMO === "true",
  };
}
