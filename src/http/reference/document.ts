/**
 * `/openapi.json` (OpenAPI 3.1), generated once at start by zod-openapi from the zod
 * schemas that validate requests and the response schemas beside the presenters.
 */
import { z } from "zod";
import { errors } from "./responses.js";
import { createDocument } from "zod-openapi";
import { restPaths } from "./rest-paths.js";

/** The OpenAPI document of every REST route (PROTOCOL §2, §5, §6). */
export function buildOpenApiDocument(version: string): ReturnType<typeof createDocument> {
  return createDocument(
    {
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
          appBasic: { type: "http", scheme: "basic", description: "`base64(\"{app name or id}:{secret}\")`, per app." },
          adminBearer: { type: "http", scheme: "bearer", description: "`ADMIN_TOKEN`. Failed attempts are limited per client address (`RATE_LIMIT_UNAUTH_PER_MIN`, then 429)." },
          metricsBearer: { type: "http", scheme: "bearer", description: "`ADMIN_TOKEN` or `METRICS_TOKEN`." },
          vetBearer: { type: "http", scheme: "bearer", description: "A vet's socket token from `POST /vet/v1/login`." },
        },
      },
      paths: {
        ...restPaths(),
        "/metrics": {
          get: {
            tags: ["ops"],
            summary: "Prometheus metrics (behind `ADMIN_TOKEN` or `METRICS_TOKEN`).",
            security: [{ metricsBearer: [] }],
            responses: { "200": { description: "Prometheus text format.", content: { "text/plain": { schema: z.string() } } }, ...errors([401, 429]) },
          },
        },
      },
    },
  );
}
