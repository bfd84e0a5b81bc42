/**
 * `/asyncapi.json` (AsyncAPI 3.0) of the socket protocol, generated once at start from the
 * zod schemas of `protocol/events.ts` with zod's own `toJSONSchema`. Convention: namespace =
 * channel, event name = message `name`, acknowledgement = the operation's reply.
 */
import { z } from "zod";
import {
  envelopeSchema,
  errorEnvelopeSchema,
  handshakeRefusalSchema,
  userClientEvents,
  userServerEvents,
  vetClientEvents,
  vetServerEvents,
  type ClientEventSpec,
  type ServerEventSpec,
} from "../../protocol/events.js";

type Json = Record<string, unknown>;

/** Component keys allow only `[A-Za-z0-9._-]`; event names use `:`. */
const key = (ns: string, event: string, suffix = "") => `${ns}.${event.replace(/:/g, "_")}${suffix}`;

/** JSON Schema (draft-07, AsyncAPI's schema dialect) with named sub-schemas moved to `components.schemas`. */
function toSchema(schema: z.ZodType, io: "input" | "output", shared: Json): Json {
  const json = z.toJSONSchema(schema, { target: "draft-07", io, unrepresentable: "any" }) as Json;
  delete json.$schema;
  const defs = (json.definitions ?? {}) as Json;
  delete json.definitions;
  const fix = (v: Json) =>
    JSON.parse(JSON.stringify(v).replaceAll('"#/definitions/', '"#/components/schemas/')) as Json;
  for (const [name, def] of Object.entries(defs)) shared[name] = fix(def as Json);
  return fix(json);
}

/** The acknowledgement of a client event: the success envelope around its `data`, or an error envelope. */
export function ackSchema(spec: ClientEventSpec): z.ZodType {
  return z.union([envelopeSchema(spec.ack).extend({ success: z.literal(true) }), errorEnvelopeSchema]);
}

/** The AsyncAPI document of both namespaces. */
export function buildAsyncApiDocument(version: string): Json {
  const schemas: Json = {};
  const messages: Json = {};
  const channels: Json = {};
  const operations: Json = {};

  function namespace(
    ns: "user" | "vet",
    client: Record<string, ClientEventSpec>,
    server: Record<string, ServerEventSpec>,
    tokenFrom: string,
  ) {
    const channelMessages: Json = {};
    const ref = (k: string) => ({ $ref: `#/channels/${ns}/messages/${k}` });
    const add = (k: string, message: Json) => {
      messages[k] = message;
      channelMessages[k] = { $ref: `#/components/messages/${k}` };
    };
    for (const [event, spec] of Object.entries(client)) {
      const m = key(ns, event);
      const ack = key(ns, event, ".ack");
      add(m, { name: event, title: event, summary: spec.summary, payload: toSchema(spec.payload, "input", schemas) });
      add(ack, {
        name: `${event} (acknowledgement)`,
        summary:
          "The envelope: `data` on success; 422 for a bad payload, 404/409 for state errors, 429, 500, 502, 503.",
        payload: toSchema(ackSchema(spec), "output", schemas),
      });
      operations[`${ns}_${event.replace(/:/g, "_")}`] = {
        action: "receive",
        channel: { $ref: `#/channels/${ns}` },
        summary: spec.summary,
        security: [{ $ref: `#/components/securitySchemes/${ns}Token` }],
        messages: [ref(m)],
        reply: { channel: { $ref: `#/channels/${ns}` }, messages: [ref(ack)] },
      };
    }
    for (const [event, spec] of Object.entries(server)) {
      const m = key(ns, event);
      add(m, { name: event, title: event, summary: spec.summary, payload: toSchema(spec.payload, "output", schemas) });
      operations[`${ns}_${event.replace(/:/g, "_")}_sent`] = {
        action: "send",
        channel: { $ref: `#/channels/${ns}` },
        summary: spec.summary,
        messages: [ref(m)],
      };
    }
    const ce = key(ns, "connect_error");
    add(ce, {
      name: "connect_error",
      summary:
        "The handshake was refused. `unauthorized` (`data.status_code` 401): bad, expired or wrong-namespace token, " +
        "or the account no longer exists or is disabled; final for that token. `unavailable` (503): the database " +
        "could not check the token in time; reconnect with the same token after `data.retry_after_s`. " +
        "`server_error` (500): unexpected; retry with backoff.",
      payload: toSchema(handshakeRefusalSchema, "output", schemas),
    });
    operations[`${ns}_connect_error`] = {
      action: "send",
      channel: { $ref: `#/channels/${ns}` },
      summary: "Handshake refused.",
      messages: [ref(ce)],
    };
    channels[ns] = {
      address: `/${ns}`,
      title: `/${ns} namespace`,
      description:
        `Socket.IO namespace \`/${ns}\`. Handshake: \`io(url + "/${ns}", { auth: { token } })\` with the token of ${tokenFrom}; ` +
        "a bad token fails with `connect_error` whose `message` is `unauthorized` (final), a database that cannot check " +
        "the token in time with `unavailable` (retry; `data` is the error envelope with `status_code` 503 and " +
        "`retry_after_s`). Every client→server event takes an " +
        "acknowledgement callback (the operation's reply); an event without one is ignored.",
      messages: channelMessages,
    };
  }

  namespace("user", userClientEvents, userServerEvents, "`POST /api/v2/{name}/socket-token`");
  namespace("vet", vetClientEvents, vetServerEvents, "`POST /vet/v1/login`");

  const tokenScheme = (from: string) => ({
    type: "httpApiKey",
    name: "token",
    in: "query",
    description: `Sent in the Socket.IO handshake as \`auth.token\` (not in the query string): the token of ${from}.`,
  });
  return {
    asyncapi: "3.0.0",
    info: {
      title: "Vet consultation gateway — sockets",
      version,
      description:
        "Socket.IO 4 on the same port as REST (PROTOCOL §3). Namespace = channel, event name = message name, " +
        "acknowledgement = the operation's reply. REST is in `/openapi.json`.",
    },
    defaultContentType: "application/json",
    servers: {
      gateway: {
        host: "localhost:3000",
        protocol: "ws",
        description: "Socket.IO 4 (Engine.IO over WebSocket or long-polling) on the gateway's HTTP port.",
      },
    },
    channels,
    operations,
    components: {
      schemas,
      messages,
      securitySchemes: {
        userToken: tokenScheme("`POST /api/v2/{name}/socket-token`"),
        vetToken: tokenScheme("`POST /vet/v1/login`"),
      },
    },
  };
}
