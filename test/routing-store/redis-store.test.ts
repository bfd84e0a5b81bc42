import { afterAll, describe, expect, it } from "vitest";
import { createClient, type RedisClientType } from "redis";
import { RedisRoutingStore, type RedisCommandClient } from "../../src/routing-store/redis-store.js";
import { REDIS_URL, cleanRedisPrefix, uniqueRedisPrefix } from "../support/services.js";
import { newRequest, routingStoreContract, rulesFor } from "./contract.js";

// One client for the file; every test gets its own sub-prefix so no state leaks between tests.
const filePrefix = uniqueRedisPrefix("rstore");
let client: RedisClientType | undefined;
let n = 0;

async function getClient() {
  if (!client) {
    client = createClient({ url: REDIS_URL });
    await client.connect();
  }
  return client;
}

afterAll(async () => {
  await client?.quit();
  await cleanRedisPrefix(filePrefix);
});

routingStoreContract("redis", async () => {
  const prefix = `${filePrefix}${++n}:`;
  const store = new RedisRoutingStore({ client: await getClient(), prefix });
  return { store, cleanup: () => cleanRedisPrefix(prefix) };
});

describe("RedisRoutingStore plumbing", () => {
  it("falls back to EVAL when Redis answers NOSCRIPT (script cache flushed)", async () => {
    const real = await getClient();
    const sent: string[] = [];
    let failNext = true;
    const flaky: RedisCommandClient = {
      async sendCommand(args) {
        sent.push(args[0]);
        if (args[0] === "EVALSHA" && failNext) {
          failNext = false;
          throw new Error("NOSCRIPT No matching script. Please use EVAL.");
        }
        return real.sendCommand(args);
      },
    };
    const store = new RedisRoutingStore({ client: flaky, prefix: `${filePrefix}${++n}:` });
    const r = await store.enqueue(newRequest());
    expect(r.created).toBe(true);
    expect(sent).toEqual(["EVALSHA", "EVAL"]);
    const { profile: _profile, ...entry } = r.consultation;
    expect((await store.snapshot()).queue).toEqual([entry]);
  });

  it("other errors are not retried", async () => {
    const sent: string[] = [];
    const broken: RedisCommandClient = {
      sendCommand(args) {
        sent.push(args[0]);
        return Promise.reject(new Error("LOADING Redis is loading the dataset in memory"));
      },
    };
    const store = new RedisRoutingStore({ client: broken, prefix: "unused:" });
    await expect(store.snapshot()).rejects.toThrow(/LOADING/);
    expect(sent).toEqual(["EVALSHA"]);
  });

  it("works over RESP2 as well as RESP3", async () => {
    const resp2 = createClient({ url: REDIS_URL, RESP: 2 });
    await resp2.connect();
    try {
      const store = new RedisRoutingStore({ client: resp2, prefix: `${filePrefix}${++n}:` });
      await store.loadScripts();
      await store.addVetConnection(1, "a", "n1", 1000);
      await store.setVetStatus(1, "available", 1000);
      const c = (await store.enqueue(newRequest())).consultation;
      const claim = await store.claimOffer(c.id, 1, 1000, 2000, rulesFor(1));
      expect(claim.ok).toBe(true);
      const snap = await store.snapshot();
      expect(snap.queue.map((q) => [q.id, q.status])).toEqual([[c.id, "offered"]]);
      expect(snap.vets).toEqual([await store.getVet(1)]);
      expect(await store.getConsultation(c.id)).toMatchObject(snap.queue[0]);
      expect(await store.claimDue(2000, 10)).toEqual([
        { kind: "offer", ref: c.id, at: 2000 },
      ]);
    } finally {
      await resp2.quit();
    }
  });
});
