/**
 * The API reference (PROTOCOL §8): `/openapi.json`, `/asyncapi.json` and `/docs`, all served
 * from this process. Each document is generated once per router, on its first request.
 */
import { createRequire } from "node:module";
import path from "node:path";
import { Router, static as serveStatic, type RequestHandler } from "express";
import { buildAsyncApiDocument } from "./asyncapi.js";
import { buildOpenApiDocument } from "./document.js";
import { css, restPage, restScript, socketsPage, socketsScript } from "./pages.js";
import { pageHeaders } from "../security.js";

/** The Swagger UI files `/docs` loads; nothing else of the package is served. */
export const SWAGGER_ASSETS = ["swagger-ui.css", "swagger-ui-bundle.js"] as const;

const send =
  (type: string, body: () => string): RequestHandler =>
  (_req, res) => {
    res.type(type).setHeader("cache-control", "public, max-age=300");
    res.send(body());
  };

/** Builds once, on first use: generating costs ~0.2 s, and most gateways (tests) never serve it. */
function once(build: () => string): () => string {
  let value: string | undefined;
  return () => (value ??= build());
}

/**
 * Where `swagger-ui-dist` lies on disk. Its main module would tell too, but importing it
 * loads its 1.4 MB browser bundle into the server: 0.3 s of start-up and 13 MB of heap that
 * every gateway carried for files it only ever serves.
 */
const swaggerUiDir = (): string => path.dirname(createRequire(import.meta.url).resolve("swagger-ui-dist/package.json"));

/** The version both documents show: the API's, not the package's. */
export const API_VERSION = "2.0.0";

/** Routes of the reference. */
export function createReferenceRouter(version = API_VERSION): Router {
  const openapi = once(() => JSON.stringify(buildOpenApiDocument(version)));
  const asyncapi = once(() => JSON.stringify(buildAsyncApiDocument(version)));
  const r = Router();
  r.use("/docs", pageHeaders());
  r.get("/openapi.json", send("application/json", openapi));
  r.get("/asyncapi.json", send("application/json", asyncapi));
  r.get(
    "/docs",
    send("html", () => restPage),
  );
  r.get(
    "/docs/sockets",
    send("html", () => socketsPage),
  );
  r.get(
    "/docs/rest.js",
    send("application/javascript", () => restScript),
  );
  r.get(
    "/docs/sockets.js",
    send("application/javascript", () => socketsScript),
  );
  r.get(
    "/docs/docs.css",
    send("text/css", () => css),
  );
  const assets = serveStatic(swaggerUiDir(), { index: false, fallthrough: false, maxAge: "1d" });
  const allowed = new Set<string>(SWAGGER_ASSETS.map((f) => `/${f}`));
  r.use("/docs/assets", (req, res, next) => {
    if (!allowed.has(req.path)) {
      next();
      return;
    }
    assets(req, res, next);
  });
  return r;
}
