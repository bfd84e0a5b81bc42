import { Router } from "express";
import type { GatewayContext } from "../../context.js";
import { fail, ok } from "../../protocol/envelope.js";
import { requireAdmin } from "../admin-auth.js";

/** The Redis check's budget; the database check uses `DATABASE_TIMEOUT_MS`. */
const READY_TIMEOUT_MS = 2000;

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return Promise.race([p, new Promise<T>((_, reject) => setTimeout(() => reject(new Error("timeout")), ms).unref())]);
}

/** `/healthz` (process up), `/readyz` (database and Redis reachable), `/metrics` (Prometheus, behind a bearer token). */
export function createOpsRouter(ctx: GatewayContext): Router {
  const r = Router();
  r.get("/healthz", (_req, res) => {
    res.json(ok({ status: "ok", node: ctx.nodeId }, "OK"));
  });
  r.get("/readyz", async (_req, res) => {
    const checks: Record<string, "ok" | "down" | "disabled"> = { database: "ok", redis: ctx.redis ? "ok" : "disabled" };
    // The pool's own deadlines apply too; this bounds the check even with DATABASE_TIMEOUT_MS=0.
    await withTimeout(ctx.database.ping(), ctx.config.databaseTimeoutMs || READY_TIMEOUT_MS).catch(
      () => (checks.database = "down"),
    );
    if (ctx.redis) {
      const redis = ctx.redis;
      await withTimeout(redis.ping(), READY_TIMEOUT_MS).catch(() => (checks.redis = "down"));
    }
    const ready = !Object.values(checks).includes("down");
    if (ready) res.json(ok(checks, "Ready"));
    else res.status(503).json({ ...fail(503, "Not Ready"), data: checks });
  });
  // Prometheus scrapes with `Authorization: Bearer` (ADMIN_TOKEN or METRICS_TOKEN): the
  // figures tell an outsider how busy the service is and which vets are online.
  r.get(
    "/metrics",
    requireAdmin(ctx, [ctx.config.adminToken, ctx.config.metricsToken], "rl-metrics"),
    async (_req, res) => {
      res.setHeader("content-type", ctx.metrics.registry.contentType);
      res.send(await ctx.metrics.registry.metrics());
    },
  );
  return r;
}
