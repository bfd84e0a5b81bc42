/**
 * A local fake of the Twilio REST endpoints the gateway uses (Conversations and Video rooms),
 * for `TWILIO_MODE=live` tests: set `TWILIO_API_BASE_URL` (or `cfg.twilio.apiBaseUrl`) to
 * `url` and every SDK request lands here as `/<product>/<path>` (see rewriteTwilioUrl).
 *
 * ```ts
 * const fake = await startFakeTwilio();
 * // ... run code with apiBaseUrl = fake.url ...
 * expect(fake.requests.map((r) => `${r.method} ${r.path}`)).toContain(`POST /video/v1/Rooms`);
 * await fake.close();
 * ```
 */
import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/** One request as the fake received it. */
export interface RecordedRequest {
  method: string;
  /** Path without the query, e.g. `/conversations/v1/Services/IS…/Conversations`. */
  path: string;
  /** The form-encoded body, parsed (a repeated key keeps its last value). */
  body: Record<string, string>;
  /** The user of the Basic `Authorization` header (the API key SID), if any. */
  user: string | undefined;
  /** The status the fake answered; 0 when it dropped the connection. */
  status: number;
}

/** A running fake; see {@link startFakeTwilio}. */
export interface FakeTwilio {
  /** Base URL, e.g. `http://127.0.0.1:41234`, for `TWILIO_API_BASE_URL`. */
  readonly url: string;
  /** Every request received, in order, failed ones included. */
  readonly requests: RecordedRequest[];
  /**
   * Answers the next `n` requests with `status` and a Twilio-style error body instead of
   * serving them (nothing is created or changed). `status` 0 drops the connection instead,
   * which the client sees as a network error. With `match`, only the requests it accepts
   * count and fail (e.g. `(r) => r.body.Identity === "app-1_vet-4"`); others are served.
   * A new call replaces the previous one; `failNext(0, 0)` cancels.
   */
  failNext(n: number, status: number, match?: (req: RecordedRequest) => boolean): void;
  /** The identities currently in a Conversation (by SID), in the order they joined. */
  participants(conversationSid: string): string[];
  /** A Conversation's state (`active`, `closed`…) by SID, or undefined when there is none. */
  conversationState(conversationSid: string): string | undefined;
  /** A room by SID, or by unique name while in progress (as Twilio resolves both), or undefined. */
  room(key: string): { sid: string; uniqueName: string; status: string } | undefined;
  /** Stops the server and drops open connections. */
  close(): Promise<void>;
}

const ACCOUNT_SID = "AC" + "0".repeat(32);
const sid = (prefix: string) => prefix + randomBytes(16).toString("hex");
const now = () => new Date().toISOString().replace(/\.\d{3}Z$/, "Z");

interface Conversation {
  sid: string;
  chatServiceSid: string;
  uniqueName: string | null;
  friendlyName: string | null;
  state: string;
  dateCreated: string;
  dateUpdated: string;
  participants: Map<string, Participant>;
}
interface Participant {
  sid: string;
  identity: string;
  dateCreated: string;
}
interface Room {
  sid: string;
  uniqueName: string;
  type: string;
  status: string;
  dateCreated: string;
  dateUpdated: string;
  endTime: string | null;
}

type Reply = [status: number, body: unknown];

const error = (status: number, code: number, message: string): Reply => [
  status,
  { code, message, more_info: `https://www.twilio.com/docs/errors/${code}`, status },
];

/** Starts the fake on 127.0.0.1 with an OS-chosen port. */
export async function startFakeTwilio(): Promise<FakeTwilio> {
  const requests: RecordedRequest[] = [];
  const conversations = new Map<string, Conversation>();
  const rooms = new Map<string, Room>();
  let failures: { left: number; status: number; match: ((req: RecordedRequest) => boolean) | undefined } = {
    left: 0,
    status: 0,
    match: undefined,
  };

  const conversationJson = (c: Conversation) => ({
    account_sid: ACCOUNT_SID,
    chat_service_sid: c.chatServiceSid,
    messaging_service_sid: null,
    sid: c.sid,
    friendly_name: c.friendlyName,
    unique_name: c.uniqueName,
    attributes: "{}",
    state: c.state,
    date_created: c.dateCreated,
    date_updated: c.dateUpdated,
    timers: {},
    bindings: null,
    url: `https://conversations.twilio.com/v1/Services/${c.chatServiceSid}/Conversations/${c.sid}`,
    links: {},
  });
  const participantJson = (c: Conversation, p: Participant) => ({
    account_sid: ACCOUNT_SID,
    chat_service_sid: c.chatServiceSid,
    conversation_sid: c.sid,
    sid: p.sid,
    identity: p.identity,
    attributes: "{}",
    messaging_binding: null,
    role_sid: null,
    date_created: p.dateCreated,
    date_updated: p.dateCreated,
    last_read_message_index: null,
    last_read_timestamp: null,
    url: `https://conversations.twilio.com/v1/Services/${c.chatServiceSid}/Conversations/${c.sid}/Participants/${p.sid}`,
  });
  const roomJson = (r: Room) => ({
    account_sid: ACCOUNT_SID,
    sid: r.sid,
    unique_name: r.uniqueName,
    type: r.type,
    status: r.status,
    date_created: r.dateCreated,
    date_updated: r.dateUpdated,
    end_time: r.endTime,
    duration: r.endTime ? Math.round((Date.parse(r.endTime) - Date.parse(r.dateCreated)) / 1000) : null,
    max_participants: 50,
    status_callback: null,
    status_callback_method: "POST",
    record_participants_on_connect: false,
    media_region: "us1",
    url: `https://video.twilio.com/v1/Rooms/${r.sid}`,
    links: {},
  });

  /** A conversation of the service by SID or unique name, as Twilio allows both in the path. */
  const findConversation = (service: string, key: string) =>
    [...conversations.values()].find((c) => c.chatServiceSid === service && (c.sid === key || c.uniqueName === key));
  /** A room by SID, or by unique name while it is in progress (as Twilio). */
  const findRoom = (key: string) =>
    rooms.get(key) ?? [...rooms.values()].find((r) => r.uniqueName === key && r.status === "in-progress");

  function route(method: string, path: string, body: Record<string, string>): Reply {
    let m: RegExpExecArray | null;
    if ((m = /^\/conversations\/v1\/Services\/([^/]+)\/Conversations$/.exec(path)) && method === "POST") {
      const service = m[1];
      const uniqueName = body.UniqueName ?? null;
      if (uniqueName !== null && findConversation(service, uniqueName)) {
        return error(409, 50353, "Conversation with provided unique name already exists");
      }
      const t = now();
      const c: Conversation = {
        sid: sid("CH"),
        chatServiceSid: service,
        uniqueName,
        friendlyName: body.FriendlyName ?? null,
        state: body.State ?? "active",
        dateCreated: t,
        dateUpdated: t,
        participants: new Map(),
      };
      conversations.set(c.sid, c);
      return [201, conversationJson(c)];
    }
    if ((m = /^\/conversations\/v1\/Services\/([^/]+)\/Conversations\/([^/]+)$/.exec(path))) {
      const c = findConversation(m[1], decodeURIComponent(m[2]));
      if (!c) return error(404, 20404, `The requested resource ${path} was not found`);
      if (method === "GET") return [200, conversationJson(c)];
      if (method !== "POST") return error(405, 20004, "Method not allowed");
      if (body.State !== undefined) {
        if (!["active", "inactive", "closed"].includes(body.State)) return error(400, 50350, "Invalid State");
        c.state = body.State;
      }
      if (body.FriendlyName !== undefined) c.friendlyName = body.FriendlyName;
      c.dateUpdated = now();
      return [200, conversationJson(c)];
    }
    if (
      (m = /^\/conversations\/v1\/Services\/([^/]+)\/Conversations\/([^/]+)\/Participants$/.exec(path)) &&
      method === "GET"
    ) {
      const c = findConversation(m[1], decodeURIComponent(m[2]));
      if (!c) return error(404, 20404, `The requested resource ${path} was not found`);
      const url = `https://conversations.twilio.com/v1/Services/${c.chatServiceSid}/Conversations/${c.sid}/Participants`;
      const meta = {
        page: 0,
        page_size: 100,
        first_page_url: url,
        previous_page_url: null,
        url,
        next_page_url: null,
        key: "participants",
      };
      return [200, { participants: [...c.participants.values()].map((p) => participantJson(c, p)), meta }];
    }
    if (
      (m = /^\/conversations\/v1\/Services\/([^/]+)\/Conversations\/([^/]+)\/Participants\/([^/]+)$/.exec(path)) &&
      method === "DELETE"
    ) {
      const c = findConversation(m[1], decodeURIComponent(m[2]));
      if (!c || !c.participants.delete(decodeURIComponent(m[3]))) {
        return error(404, 20404, `The requested resource ${path} was not found`);
      }
      return [204, null];
    }
    if (
      (m = /^\/conversations\/v1\/Services\/([^/]+)\/Conversations\/([^/]+)\/Participants$/.exec(path)) &&
      method === "POST"
    ) {
      const c = findConversation(m[1], decodeURIComponent(m[2]));
      if (!c) return error(404, 20404, `The requested resource ${path} was not found`);
      const identity = body.Identity;
      if (!identity) return error(400, 50434, "Identity not provided");
      if ([...c.participants.values()].some((p) => p.identity === identity)) {
        return error(409, 50433, "Participant already exists");
      }
      const p: Participant = { sid: sid("MB"), identity, dateCreated: now() };
      c.participants.set(p.sid, p);
      return [201, participantJson(c, p)];
    }
    if (path === "/video/v1/Rooms" && method === "POST") {
      const uniqueName = body.UniqueName ?? sid("RM");
      if (findRoom(uniqueName)) return error(400, 53113, "Room exists");
      const t = now();
      const r: Room = {
        sid: sid("RM"),
        uniqueName,
        type: body.Type ?? "group",
        status: "in-progress",
        dateCreated: t,
        dateUpdated: t,
        endTime: null,
      };
      rooms.set(r.sid, r);
      return [201, roomJson(r)];
    }
    if ((m = /^\/video\/v1\/Rooms\/([^/]+)$/.exec(path))) {
      const r = findRoom(decodeURIComponent(m[1]));
      if (!r) return error(404, 20404, `The requested resource ${path} was not found`);
      if (method === "GET") return [200, roomJson(r)];
      if (method !== "POST") return error(405, 20004, "Method not allowed");
      if (body.Status !== "completed" || r.status !== "in-progress") {
        return error(400, 53112, "Status is invalid or the Room is not in-progress");
      }
      r.status = "completed";
      r.endTime = r.dateUpdated = now();
      return [200, roomJson(r)];
    }
    return error(404, 20404, `The requested resource ${path} was not found`);
  }

  function handle(req: IncomingMessage, res: ServerResponse, raw: string): void {
    const method = req.method ?? "GET";
    const path = new URL(req.url ?? "/", "http://fake").pathname;
    const body = Object.fromEntries(new URLSearchParams(raw));
    const user = basicUser(req.headers.authorization);
    const record: RecordedRequest = { method, path, body, user, status: 0 };
    requests.push(record);

    let reply: Reply;
    if (failures.left > 0 && (!failures.match || failures.match(record))) {
      failures = { ...failures, left: failures.left - 1 };
      if (failures.status === 0) {
        req.socket.destroy();
        return;
      }
      reply = error(failures.status, 20_000 + failures.status, "Injected failure");
    } else if (!user) {
      reply = error(401, 20003, "Authenticate");
    } else {
      reply = route(method, path, body);
    }
    record.status = reply[0];
    if (reply[0] === 204) {
      res.writeHead(204);
      res.end();
      return;
    }
    res.writeHead(reply[0], { "content-type": "application/json" });
    res.end(JSON.stringify(reply[1]));
  }

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => handle(req, res, Buffer.concat(chunks).toString("utf8")));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    failNext(n, status, match) {
      failures = { left: n, status, match };
    },
    participants(conversationSid) {
      return [...(conversations.get(conversationSid)?.participants.values() ?? [])].map((p) => p.identity);
    },
    conversationState: (conversationSid) => conversations.get(conversationSid)?.state,
    room(key) {
      const r = findRoom(key);
      return r && { sid: r.sid, uniqueName: r.uniqueName, status: r.status };
    },
    close() {
      return new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      });
    },
  };
}

function basicUser(header: string | undefined): string | undefined {
  const m = /^Basic\s+(\S+)$/i.exec(header ?? "");
  if (!m) return undefined;
  const decoded = Buffer.from(m[1], "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  return colon > 0 ? decoded.slice(0, colon) : undefined;
}

/** The made-up credentials of a live-mode test gateway (only the fake ever sees them). */
export const LIVE_TWILIO = {
  account: "AC11111111111111111111111111111111",
  key: "SK22222222222222222222222222222222",
  secret: "live-test-secret-value",
  chatService: "IS33333333333333333333333333333333",
} as const;

/** `TWILIO_MODE=live` and its credentials, with the REST calls going to `fake`. */
export function liveTwilioEnv(fake: FakeTwilio): Record<string, string> {
  return {
    TWILIO_MODE: "live",
    TWILIO_API_BASE_URL: fake.url,
    TWILIO_ACCOUNT_SID: LIVE_TWILIO.account,
    TWILIO_API_KEY: LIVE_TWILIO.key,
    TWILIO_API_SECRET: LIVE_TWILIO.secret,
    TWILIO_CHAT_SERVICE_SID: LIVE_TWILIO.chatService,
  };
}
