/**
 * `/openapi.json` (OpenAPI 3.1), generated once at start by zod-openapi from the zod
 * schemas that validate requests and the response schemas beside the presenters.
 */
import { z } from "zod";
import { errors } from "./responses.js";
import { createDocument } from "zod-openapi";
import { restPaths } from "./rest-paths.js";
import { WEBHOOK_EVENT_TYPES, webhookBodySchema } from "../../protocol/webhooks.js";
import { webhookBody } from "./examples.js";

/**
 * The OpenAPI 3.1 `webhooks` section (PROTOCOL §9): one operation per event type, each a
 * signed POST from the gateway to the app's `webhook_url`.
 */
function webhookOperations() {
  const signatureHeaders = z.object({
    "webhook-id": z.string().meta({
      description: "`msg_{delivery id}`: the same on every attempt of one event; deduplicate on it.",
      example: "msg_42",
    }),
    "webhook-timestamp": z.string().meta({ description: "Unix seconds of this attempt.", example: "1796140830" }),
    "webhook-signature": z.string().meta({
      description: "`v1,` + base64 HMAC-SHA256 of `{id}.{timestamp}.{body}` (Standard Webhooks).",
      example: "v1,K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4=",
    }),
  });
  return Object.fromEntries(
    WEBHOOK_EVENT_TYPES.map((type) => [
      type,
      {
        post: {
          summary: `\`${type}\``,
          description:
            "Any 2xx within 10 s acknowledges it; otherwise it is retried with exponential backoff for up to `WEBHOOK_RETRY_WINDOW_S` (24 h). Events of one consultation arrive in order.",
          requestParams: { header: signatureHeaders },
          requestBody: {
            required: true,
            content: { "application/json": { schema: webhookBodySchema, example: { ...webhookBody, type } } },
          },
          responses: { "200": { description: "Received (any 2xx)." } },
        },
      },
    ]),
  );
}

/** The OpenAPI document of every REST route (PROTOCOL §2, §5, §6). */
export function buildOpenApiDocument(version: string): ReturnType<typeof createDocument> {
  return createDocument({
    openapi: "3.1.0",
    info: {
      title: "Vet consultation gateway — REST",
      version,
      description:
        "Every answer, success or error, is the envelope `{success, status_code, message[], data}` with `status_code` equal to the HTTP status; errors carry `data: []`. The socket protocol is in `/asyncapi.json`.",
    },
    tags: [
      { name: "v2", description: "Partner API, no auth" },
      { name: "users" },
      { name: "pets" },
      { name: "reports" },
      { name: "consultations", description: "REST fallbacks of the socket flows" },
      { name: "vet", description: "Vet console login" },
      { name: "admin", description: "Operators, `Authorization: Bearer $ADMIN_TOKEN`" },
      { name: "ops" },
      { name: "demo", description: "Demo mode only (`DEMO=1`); 404 otherwise" },
    ],
    components: {
      securitySchemes: {
        appBasic: { type: "http", scheme: "basic", description: '`base64("{app name or id}:{secret}")`, per app.' },
        adminBearer: {
          type: "http",
          scheme: "bearer",
          description:
            "`ADMIN_TOKEN`. Failed attempts are limited per client address (`RATE_LIMIT_UNAUTH_PER_MIN`, then 429).",
        },
        metricsBearer: { type: "http", scheme: "bearer", description: "`ADMIN_TOKEN` or `METRICS_TOKEN`." },
        vetBearer: { type: "http", scheme: "bearer", description: "A vet's socket token from `POST /vet/v1/login`." },
      },
    },
    webhooks: webhookOperations(),
    paths: {
      ...restPaths(),
      "/metrics": {
        get: {
          tags: ["ops"],
          summary: "Prometheus metrics (behind `ADMIN_TOKEN` or `METRICS_TOKEN`).",
          security: [{ metricsBearer: [] }],
          responses: {
            "200": { description: "Prometheus text format.", content: { "text/plain": { schema: z.string() } } },
            ...errors([401, 429]),
          },
        },
      },
    },
  });
}
