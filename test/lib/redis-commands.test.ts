import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createClient, type RedisClientType } from "redis";
import { RedisTimeoutError, withCommandDeadline } from "../../src/lib/redis-commands.js";
import { REDIS_URL, cleanRedisPrefix, uniqueRedisPrefix } from "../support/services.js";

describe("withCommandDeadline (real Redis)", () => {
  const prefix = uniqueRedisPrefix("deadline");
  let client: RedisClientType;

  beforeAll(async () => {
    // As the gateway creates it: node-redis' own per-command timeout off.
    client = createClient({ url: REDIS_URL, commandOptions: { timeout: 0 } });
    await client.connect();
  });
  afterAll(async () => {
    await client.quit();
    await cleanRedisPrefix(prefix);
  });

  it("passes commands and replies through", async () => {
    const commands = withCommandDeadline(client, 1_000);
    expect(await commands.sendCommand(["SET", `${prefix}k`, "v"])).toBe("OK");
    expect(await commands.sendCommand(["GET", `${prefix}k`])).toBe("v");
  });

  it("passes Redis errors through unchanged", async () => {
    const commands = withCommandDeadline(client, 1_000);
    await expect(commands.sendCommand(["INCR", `${prefix}k`])).rejects.toThrow(/not an integer/);
  });

  it("fails a command Redis does not answer in time, and the connection keeps working", async () => {
    const commands = withCommandDeadline(client, 100);
    const started = performance.now();
    // BLPOP on an empty list holds the reply for 1 s: longer than the 100 ms deadline.
    await expect(commands.sendCommand(["BLPOP", `${prefix}empty`, "1"])).rejects.toBeInstanceOf(RedisTimeoutError);
    expect(performance.now() - started).toBeLessThan(900);
    // The late reply is consumed in order; later commands get their own replies.
    expect(await withCommandDeadline(client, 5_000).sendCommand(["GET", `${prefix}k`])).toBe("v");
  });

  it("with 0 applies no deadline", () => {
    expect(withCommandDeadline(client, 0)).toBe(client);
  });
});
