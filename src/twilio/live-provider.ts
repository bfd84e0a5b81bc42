import { setTimeout as sleep } from "node:timers/promises";
import twilio from "twilio";
// Type-only deep import: the package root does not re-export RequestClient's option types.
import type RequestClient from "twilio/lib/base/RequestClient.js";
import type { ResolvedConfig } from "../config.js";
import type { TwilioProvider } from "../domain/ports.js";
import { AppError } from "../lib/app-error.js";
import type { Logger } from "../lib/logger.js";

/**
 * How the live provider retries transient failures (network errors, 429, 5xx) of each REST
 * call: `attempts` tries in all, waiting `baseDelayMs * 2^(n-1)` after the n-th failure.
 */
export interface RetryPolicy {
  readonly attempts: number;
  readonly baseDelayMs: number;
}

/** 3 attempts, waiting 100 ms then 200 ms (a 4th attempt, if configured, would wait 400 ms). */
export const DEFAULT_RETRY_POLICY: RetryPolicy = Object.freeze({ attempts: 3, baseDelayMs: 100 });

/** Per-attempt HTTP timeout; the SDK default (30 s) times 3 attempts would hold a request 90 s. */
const REQUEST_TIMEOUT_MS = 10_000;

// Twilio error codes (https://www.twilio.com/docs/api/errors/<code>) that mean "already done".
const CONVERSATION_EXISTS = 50353;
const PARTICIPANT_EXISTS = 50433;
/** The resource (here: a participant already removed) does not exist. */
const NOT_FOUND = 20404;
const ROOM_EXISTS = 53113;
/** "Status is invalid or the Room is not in-progress"; we only ever send `completed`. */
const ROOM_NOT_IN_PROGRESS = 53112;

/**
 * Maps a Twilio API URL onto `baseUrl` (a local fake in tests):
 * `https://<product>[.<edge>][.<region>].twilio.com/<path>?<query>` →
 * `${baseUrl}/<product>/<path>?<query>`, e.g.
 * `https://conversations.twilio.com/v1/Services/IS…/Conversations` →
 * `${baseUrl}/conversations/v1/Services/IS…/Conversations` and
 * `https://video.twilio.com/v1/Rooms` → `${baseUrl}/video/v1/Rooms`.
 * A path in `baseUrl` is kept as a prefix; URLs outside twilio.com are returned unchanged.
 */
export function rewriteTwilioUrl(uri: string, baseUrl: string): string {
  const u = new URL(uri);
  const host = /^([a-z0-9-]+)(?:\.[a-z0-9-]+)*\.twilio\.com$/i.exec(u.hostname);
  if (!host) return uri;
  return `${baseUrl.replace(/\/+$/, "")}/${host[1].toLowerCase()}${u.pathname}${u.search}`;
}

/** twilio's RequestClient with every request sent to `baseUrl` instead (see {@link rewriteTwilioUrl}). */
class BaseUrlRequestClient extends twilio.RequestClient {
  readonly #baseUrl: string;

  constructor(baseUrl: string, opts: RequestClient.RequestClientOptions) {
    super(opts);
    this.#baseUrl = baseUrl;
  }

  override request<TData>(opts: RequestClient.RequestOptions<TData>) {
    return super.request<TData>({ ...opts, uri: rewriteTwilioUrl(opts.uri, this.#baseUrl) });
  }
}

/** What we log about a failure: never the raw error, whose axios config carries the Authorization header. */
interface FailureInfo {
  status: number | undefined;
  code: number | string | undefined;
  detail: string;
  transient: boolean;
}

function classify(err: unknown): FailureInfo {
  const e = (typeof err === "object" && err !== null ? err : {}) as {
    status?: unknown;
    code?: unknown;
    message?: unknown;
    isAxiosError?: unknown;
  };
  const detail = typeof e.message === "string" ? e.message : String(err);
  const code = typeof e.code === "number" || typeof e.code === "string" ? e.code : undefined;
  // RestException / TwilioServiceException: Twilio answered with an HTTP error status.
  if (typeof e.status === "number") {
    return { status: e.status, code, detail, transient: e.status === 429 || e.status >= 500 };
  }
  // No HTTP answer (refused, reset, timeout): axios errors and Node system errors (string code).
  const network = e.isAxiosError === true || typeof e.code === "string";
  return { status: undefined, code, detail, transient: network };
}

const twilioCode = (err: unknown): number | undefined => {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === "number" ? code : undefined;
};

/**
 * `TWILIO_MODE=live`: Conversations and Video REST calls through the twilio SDK with API-key
 * auth, against Twilio or `cfg.apiBaseUrl`.
 *
 * Every REST call is retried on its own on network errors, 429 and 5xx (`retry`); after the
 * last attempt it throws `AppError(502, "Twilio is unavailable, please retry")`. Other 4xx
 * are not retried and throw `AppError(502, "Twilio rejected the request")`; details are logged.
 *
 * Idempotency (so a caller may simply retry, and so our own retry of a create whose response
 * was lost is harmless): a create answered "Conversation exists" (50353) fetches the
 * Conversation by unique name; "Participant already exists" (50433) counts as added, and a participant already gone
 * (20404) as removed; "Room
 * exists" (53113) fetches the in-progress room by unique name; completing a room that is no
 * longer in progress (53112) counts as done. Unique names are consultation ids, so a clash is
 * always the same consultation.
 */
export function createLiveProvider(cfg: ResolvedConfig["twilio"], logger: Logger, retry: RetryPolicy): TwilioProvider {
  const log = logger.child({ component: "twilio", mode: "live" });
  const httpOpts: RequestClient.RequestClientOptions = { timeout: REQUEST_TIMEOUT_MS, keepAlive: true };
  const httpClient = cfg.apiBaseUrl
    ? new BaseUrlRequestClient(cfg.apiBaseUrl, httpOpts)
    : new twilio.RequestClient(httpOpts);
  const client = twilio(cfg.apiKey, cfg.apiSecret, { accountSid: cfg.accountSid, httpClient });
  const service = client.conversations.v1.services(cfg.chatServiceSid);
  const attempts = Math.max(1, retry.attempts);

  /** Runs one REST call with retries; a non-transient failure is rethrown untouched for the caller to inspect. */
  async function call<T>(op: string, fn: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await fn();
      } catch (err) {
        const info = classify(err);
        if (!info.transient) throw err;
        const { transient: _, ...fields } = info;
        if (attempt >= attempts) {
          log.error({ op, attempt, ...fields }, "twilio unavailable, giving up");
          throw new AppError(502, "Twilio is unavailable, please retry");
        }
        const delayMs = retry.baseDelayMs * 2 ** (attempt - 1);
        log.warn({ op, attempt, delayMs, ...fields }, "twilio call failed, retrying");
        await sleep(delayMs);
      }
    }
  }

  /** Turns what `call` rethrew into the AppError callers expect; programming errors pass through. */
  function rejected(op: string, err: unknown): unknown {
    if (err instanceof AppError) return err;
    const { transient: _, ...fields } = classify(err);
    if (fields.status === undefined) return err;
    log.error({ op, ...fields }, "twilio rejected the request");
    return new AppError(502, "Twilio rejected the request");
  }

  async function ensureConversation(uniqueName: string, friendlyName: string | undefined): Promise<string> {
    try {
      const c = await call("conversation.create", () => service.conversations.create({ uniqueName, friendlyName }));
      return c.sid;
    } catch (err) {
      if (twilioCode(err) !== CONVERSATION_EXISTS) throw err;
      const c = await call("conversation.fetch", () => service.conversations(uniqueName).fetch());
      log.info({ uniqueName, sid: c.sid }, "conversation already existed, reusing it");
      return c.sid;
    }
  }

  async function addParticipant(conversationSid: string, identity: string): Promise<void> {
    try {
      await call("participant.create", () => service.conversations(conversationSid).participants.create({ identity }));
    } catch (err) {
      if (twilioCode(err) !== PARTICIPANT_EXISTS) throw err;
    }
  }

  return {
    mode: "live",

    async createConversation({ uniqueName, friendlyName, userIdentity, vetIdentity }) {
      try {
        const sid = await ensureConversation(uniqueName, friendlyName);
        // One after the other: a deterministic order, and the second add is skipped if the first fails.
        await addParticipant(sid, userIdentity);
        await addParticipant(sid, vetIdentity);
        return { sid };
      } catch (err) {
        throw rejected("createConversation", err);
      }
    },

    async closeConversation(sid) {
      try {
        await call("conversation.close", () => service.conversations(sid).update({ state: "closed" }));
      } catch (err) {
        throw rejected("closeConversation", err);
      }
    },

    async addParticipant(sid, identity) {
      try {
        await addParticipant(sid, identity);
      } catch (err) {
        throw rejected("addParticipant", err);
      }
    },

    async removeParticipant(sid, identity) {
      try {
        // Participants are addressed by SID: find this identity's, if it is still there.
        const list = await call("participant.list", () =>
          service.conversations(sid).participants.list({ pageSize: 100 }),
        );
        const found = list.find((p) => p.identity === identity);
        if (!found) return;
        await call("participant.remove", () => service.conversations(sid).participants(found.sid).remove());
      } catch (err) {
        if (twilioCode(err) === NOT_FOUND) return;
        throw rejected("removeParticipant", err);
      }
    },

    async createRoom({ uniqueName }) {
      try {
        const room = await call("room.create", () => client.video.v1.rooms.create({ uniqueName, type: "group" }));
        return { sid: room.sid };
      } catch (err) {
        if (twilioCode(err) !== ROOM_EXISTS) throw rejected("createRoom", err);
        try {
          const room = await call("room.fetch", () => client.video.v1.rooms(uniqueName).fetch());
          log.info({ uniqueName, sid: room.sid }, "room already existed, reusing it");
          return { sid: room.sid };
        } catch (fetchErr) {
          throw rejected("createRoom", fetchErr);
        }
      }
    },

    async completeRoom(sid) {
      try {
        await call("room.complete", () => client.video.v1.rooms(sid).update({ status: "completed" }));
      } catch (err) {
        if (twilioCode(err) === ROOM_NOT_IN_PROGRESS) {
          log.debug({ sid }, "room was no longer in progress");
          return;
        }
        throw rejected("completeRoom", err);
      }
    },
  };
}
