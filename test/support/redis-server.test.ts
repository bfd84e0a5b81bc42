/** The throwaway redis-server: starts on a spare port, restarts empty on the same port. */
import { createClient } from "redis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startThrowawayRedis, type ThrowawayRedis } from "./redis-server.js";

describe("throwaway redis-server", () => {
  let redis: ThrowawayRedis;
  beforeAll(async () => {
    redis = await startThrowawayRedis();
  });
  afterAll(async () => {
    await redis?.stop();
  });

  it("serves, has no persistence, and comes back empty after restart()", async () => {
    const c = createClient({ url: redis.url });
    c.on("error", () => undefined);
    await c.connect();
    try {
      expect(await c.configGet("save")).toEqual({ save: "" });
      expect(await c.configGet("appendonly")).toEqual({ appendonly: "no" });
      await c.set("k", "v");
      expect(await c.get("k")).toBe("v");
      const runId = (await c.info("server")).match(/run_id:(\w+)/)?.[1];

      await redis.restart();
      // node-redis reconnects by itself to the same port.
      await expect.poll(async () => c.get("k").catch(() => "unreachable"), { timeout: 5000 }).toBeNull();
      expect((await c.info("server")).match(/run_id:(\w+)/)?.[1]).not.toBe(runId);
    } finally {
      c.destroy();
    }
  });

  it("stop() makes the port refuse connections", async () => {
    const other = await startThrowawayRedis();
    await other.stop();
    const c = createClient({ url: other.url, socket: { reconnectStrategy: false, connectTimeout: 500 } });
    c.on("error", () => undefined);
    await expect(c.connect()).rejects.toThrow();
  });
});
