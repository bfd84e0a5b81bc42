/**
 * The API reference cannot drift: both documents are valid, every Express route is
 * documented and every documented route exists, and /docs loads nothing from another host.
 * (Responses themselves are checked against the documents in every REST and socket test,
 * through `test/support/reference-validator.ts`.)
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { validate as validateOpenApi } from "@readme/openapi-parser";
import { Parser } from "@asyncapi/parser";
import type express from "express";
import { createHttpApp } from "../../../src/http/app.js";
import { SWAGGER_ASSETS } from "../../../src/http/reference/router.js";
import { createConsultationRouter } from "../../../src/http/routes/v2/consultations.js";
import { request, startTestGateway, type TestGateway } from "../../support/gateway.js";

let gw: TestGateway;
beforeAll(async () => {
  gw = await startTestGateway({ db: "pglite" });
}, 120_000);
afterAll(async () => {
  await gw.close();
});

/** The reference's own pages are not part of the API it describes. */
// The documents themselves, and `GET /` (a redirect to the console page, not an API route).
const REFERENCE_ROUTES = /^\/(openapi\.json|asyncapi\.json|docs(\/.*)?)?$/;

interface Layer {
  route?: { path: string; methods: Record<string, boolean> };
  handle: { stack?: Layer[] };
  rawPath?: string;
}

/** Every `METHOD /path` Express serves, mount paths included, `:param` written `{param}`. */
function expressRoutes(stack: Layer[], prefix = ""): string[] {
  const out: string[] = [];
  for (const layer of stack) {
    if (layer.route) {
      for (const [method, on] of Object.entries(layer.route.methods)) {
        if (on && method !== "_all") out.push(`${method.toUpperCase()} ${prefix}${layer.route.path}`);
      }
    } else if (layer.handle.stack) {
      const mount = typeof layer.rawPath === "string" && layer.rawPath !== "/" ? layer.rawPath : "";
      out.push(...expressRoutes(layer.handle.stack, prefix + mount));
    }
  }
  return out.map((r) => r.replace(/:(\w+)/g, "{$1}"));
}

describe("/openapi.json", () => {
  it("is a valid OpenAPI 3.1 document", async () => {
    const res = await request(gw.url, "GET", "/openapi.json");
    expect(res.status).toBe(200);
    expect(res.body.openapi).toBe("3.1.0");
    const result = await validateOpenApi(structuredClone(res.body));
    expect(result.valid, JSON.stringify(result)).toBe(true);
  });

  it("documents exactly the routes Express serves", async () => {
    const doc = (await request(gw.url, "GET", "/openapi.json")).body as {
      paths: Record<string, Record<string, unknown>>;
    };
    const documented = Object.entries(doc.paths)
      .flatMap(([p, item]) => Object.keys(item).map((m) => `${m.toUpperCase()} ${p}`))
      .sort();
    // Demo mode on, so the walk sees /demo/v1/* too: the reference documents them always
    // (each says it answers only with DEMO=1).
    const ctx = { ...gw.gateway.ctx, config: { ...gw.gateway.ctx.config, demo: true } };
    const app = createHttpApp(ctx, [createConsultationRouter(ctx, gw.gateway.engine)]) as express.Express & {
      router: { stack: Layer[] };
    };
    const served = [...new Set(expressRoutes(app.router.stack))]
      .filter((r) => !REFERENCE_ROUTES.test(r.split(" ")[1] ?? ""))
      .sort();
    expect(
      served.filter((r) => !documented.includes(r)),
      "routes missing from /openapi.json",
    ).toEqual([]);
    expect(
      documented.filter((r) => !served.includes(r)),
      "documented routes that do not exist",
    ).toEqual([]);
    expect(served.length).toBeGreaterThan(20);
  });

  it("gives every operation an example, a success answer and enveloped errors", async () => {
    const doc = (await request(gw.url, "GET", "/openapi.json")).body as { paths: Record<string, Record<string, any>> };
    for (const [p, item] of Object.entries(doc.paths)) {
      for (const [m, op] of Object.entries(item)) {
        const statuses = Object.keys(op.responses as object);
        expect(
          statuses.some((s) => s.startsWith("2")),
          `${m} ${p}`,
        ).toBe(true);
        for (const s of statuses) {
          const json = op.responses[s].content?.["application/json"];
          if (p === "/metrics") continue;
          expect(json?.example, `${m} ${p} ${s} example`).toBeDefined();
        }
        if (op.requestBody)
          expect(op.requestBody.content["application/json"].example, `${m} ${p} body example`).toBeDefined();
      }
    }
  });
});

describe("/asyncapi.json", () => {
  it("is a valid AsyncAPI 3.0 document with both namespaces and every event", async () => {
    const res = await request(gw.url, "GET", "/asyncapi.json");
    expect(res.status).toBe(200);
    const { document, diagnostics } = await new Parser().parse(JSON.stringify(res.body));
    expect(diagnostics.filter((d) => Number(d.severity) === 0).map((d) => `${d.path.join(".")}: ${d.message}`)).toEqual(
      [],
    );
    expect(document?.version()).toBe("3.0.0");
    expect(
      Object.values(res.body.channels as Record<string, { address: string }>)
        .map((c) => c.address)
        .sort(),
    ).toEqual(["/user", "/vet"]);
    const names = Object.values(res.body.components.messages as Record<string, { name: string }>).map((m) => m.name);
    for (const e of [
      "consult:request",
      "consult:queued",
      "consult:matched",
      "consult:offer",
      "consult:accept",
      "presence",
      "connect_error",
      "token:refresh",
    ]) {
      expect(names).toContain(e);
    }
    expect(res.body.operations.vet_consult_accept.reply.messages).toHaveLength(1);
  });
});

describe("/docs", () => {
  const sameOrigin = (u: string) => u.startsWith("/") && !u.startsWith("//");
  /** The status of a GET, with the body read so the connection is free when the gateway closes. */
  const statusOf = async (u: string) => {
    const res = await fetch(gw.url + u);
    await res.arrayBuffer();
    return res.status;
  };

  it("references only same-origin assets, with no inline scripts, and serves each of them", async () => {
    for (const page of ["/docs", "/docs/sockets"]) {
      const res = await fetch(gw.url + page);
      expect(res.status).toBe(200);
      const html = await res.text();
      const urls = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1] ?? "");
      expect(urls.length).toBeGreaterThan(2);
      expect(
        urls.filter((u) => !sameOrigin(u)),
        `${page}: other hosts`,
      ).toEqual([]);
      expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
      expect(html).not.toMatch(/\son\w+="/);
      for (const u of urls) expect(await statusOf(u), u).toBe(200);
    }
    for (const f of SWAGGER_ASSETS) expect(await statusOf(`/docs/assets/${f}`)).toBe(200);
    // Nothing else of the swagger-ui-dist package is reachable (its index.html points at the petstore).
    expect(await statusOf("/docs/assets/index.html")).toBe(404);
    const init = await (await fetch(`${gw.url}/docs/rest.js`)).text();
    expect(init).toContain("validatorUrl: null");
  });
});
