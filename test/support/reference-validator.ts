/**
 * Checks what the gateway answers against its own reference: REST responses against the
 * `/openapi.json` schema of their route and status, socket acknowledgements and events
 * against the `/asyncapi.json` payloads. One ajv instance per document, built on first use.
 * `request()` (REST) and `TestClient` (sockets) call these, so every test checks the reference.
 */
import { Ajv2020 } from "ajv/dist/2020.js";
import { Ajv, type ValidateFunction } from "ajv";
import addFormatsImport from "ajv-formats";
import { buildAsyncApiDocument } from "../../src/http/reference/asyncapi.js";
import { buildOpenApiDocument } from "../../src/http/reference/document.js";

type Json = Record<string, any>;
const addFormats = addFormatsImport as unknown as (ajv: Ajv | Ajv2020) => void;

const pointer = (s: string) => s.replace(/~/g, "~0").replace(/\//g, "~1");

interface Reference {
  ajv: Ajv2020 | Ajv;
  doc: Json;
  cache: Map<string, ValidateFunction>;
}

let openapi: (Reference & { routes: Array<{ template: string; re: RegExp }> }) | undefined;
let asyncapi: Reference | undefined;

function openApi() {
  if (!openapi) {
    const doc = buildOpenApiDocument("test") as Json;
    const ajv = new Ajv2020({ strict: false, allErrors: true });
    addFormats(ajv);
    ajv.addSchema(doc, "openapi");
    const routes = Object.keys(doc.paths as Json).map((template) => ({
      template,
      re: new RegExp(`^${template.replace(/\{[^}]+\}/g, "[^/]+")}$`),
    }));
    openapi = { ajv, doc, cache: new Map(), routes };
  }
  return openapi;
}

function asyncApi(): Reference {
  if (!asyncapi) {
    const doc = buildAsyncApiDocument("test");
    const ajv = new Ajv({ strict: false, allErrors: true });
    addFormats(ajv);
    ajv.addSchema(doc, "asyncapi");
    asyncapi = { ajv, doc, cache: new Map() };
  }
  return asyncapi;
}

function compiled(ref: Reference, id: string): ValidateFunction {
  let fn = ref.cache.get(id);
  if (!fn) {
    fn = ref.ajv.compile({ $ref: id });
    ref.cache.set(id, fn);
  }
  return fn;
}

function check(ref: Reference, id: string, value: unknown, what: string): void {
  const fn = compiled(ref, id);
  if (!fn(value)) {
    throw new Error(
      `${what} does not match the reference (${id}): ${JSON.stringify(fn.errors?.slice(0, 5))}\nvalue: ${JSON.stringify(value).slice(0, 800)}`,
    );
  }
}

/** The documented path template of a request path, e.g. `/api/v2/{name}/pet/list`, or null. */
export function documentedPath(path: string): string | null {
  const clean = path.split("?")[0] ?? path;
  return openApi().routes.find((r) => r.re.test(clean))?.template ?? null;
}

/**
 * Throws unless `body` is what `/openapi.json` documents for this method, path and status.
 * Undocumented paths must answer the 404 error envelope; non-JSON answers are not checked.
 */
export function checkRestResponse(
  method: string,
  path: string,
  status: number,
  contentType: string | null,
  body: unknown,
): void {
  if (!contentType?.includes("application/json")) return;
  // The reference's own documents are not envelopes (test/http/reference/router.test.ts checks them).
  if (/^\/(openapi|asyncapi)\.json(\?|$)/.test(path)) return;
  const ref = openApi();
  const template = documentedPath(path);
  const op = template ? (ref.doc.paths[template] as Json)[method.toLowerCase()] : undefined;
  if (!template || !op) {
    // Unknown routes and methods: the 404 envelope (or a body-parser error before routing).
    check(
      ref,
      "openapi#/components/schemas/ErrorEnvelope",
      body,
      `${method} ${path} → ${String(status)} (undocumented route)`,
    );
    return;
  }
  if (!op.responses[String(status)])
    throw new Error(`${method} ${template} answered ${String(status)}, which /openapi.json does not document`);
  const id = `openapi#/paths/${pointer(template)}/${method.toLowerCase()}/responses/${String(status)}/content/application~1json/schema`;
  check(ref, id, body, `${method} ${path} → ${String(status)}`);
}

/** Throws unless `envelope` matches the documented acknowledgement of `event` in namespace `ns`. */
export function checkSocketAck(ns: "user" | "vet", event: string, envelope: unknown): void {
  const ref = asyncApi();
  const key = `${ns}.${event.replace(/:/g, "_")}.ack`;
  if (!(ref.doc.components as Json).messages[key]) return; // undocumented events get a plain error envelope (tested elsewhere)
  check(ref, `asyncapi#/components/messages/${pointer(key)}/payload`, envelope, `ack of ${ns} ${event}`);
}

/** A violation message when a server→client event's payload does not match `/asyncapi.json`, else null. */
export function socketEventViolation(ns: "user" | "vet", event: string, payload: unknown): string | null {
  const ref = asyncApi();
  const key = `${ns}.${event.replace(/:/g, "_")}`;
  if (!(ref.doc.components as Json).messages[key]) return `${ns} event ${event} is not in /asyncapi.json`;
  try {
    check(ref, `asyncapi#/components/messages/${pointer(key)}/payload`, payload, `${ns} event ${event}`);
    return null;
  } catch (err) {
    return (err as Error).message;
  }
}
