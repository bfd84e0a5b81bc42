import path from "node:path";
import { fileURLToPath } from "node:url";
import express, { Router } from "express";
import { fail } from "../protocol/envelope.js";
import { pageHeaders } from "./security.js";

/**
 * The built pages (`npm run build` → dist/public; same path from src/ under tsx and from
 * dist/ in production).
 */
export const PUBLIC_DIR = fileURLToPath(new URL("../../dist/public", import.meta.url));

/**
 * Serves the browser pages: `/console/`, `/ops/`, `/demo/` (only in demo mode, else 404) and
 * their hashed `/assets/`. `GET /` redirects to the console.
 */
export function createPagesRouter(opts: { demo: boolean; twilioLive?: boolean; dir?: string }): Router {
  const dir = opts.dir ?? PUBLIC_DIR;
  const r = Router();
  // Pages get a CSP that lets their own scripts run (API answers keep `default-src 'none'`).
  r.use(["/console", "/ops", "/demo", "/assets"], pageHeaders({ twilioLive: opts.twilioLive ?? false }));
  r.get("/", (_req, res) => res.redirect(302, "/console/"));
  // HTML is revalidated on every load; assets carry a content hash and never change.
  const html = { index: "index.html", maxAge: 0, dotfiles: "deny" as const };
  r.use("/console", express.static(path.join(dir, "console"), html));
  r.use("/ops", express.static(path.join(dir, "ops"), html));
  if (opts.demo) r.use("/demo", express.static(path.join(dir, "demo"), html));
  else r.use("/demo", (_req, res) => void res.status(404).json(fail(404, "Not Found")));
  r.use(
    "/assets",
    express.static(path.join(dir, "assets"), { index: false, immutable: true, maxAge: "1y", dotfiles: "deny" }),
  );
  return r;
}
