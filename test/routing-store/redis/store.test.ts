import { afterAll, describe, expect, it } from "vitest";
import { createClient, type RedisClientType } from "redis";
import { routingKeys } from "../../../src/routing-store/redis/keys.js";
import { RedisRoutingStore, type RedisCommandClient } from "../../../src/routing-store/redis/store.js";
import { REDIS_URL, cleanRedisPrefix, uniqueRedisPrefix } from "../../support/services.js";
import { newRequest, routingStoreContract, rulesFor } from "../contract.js";
import { licensingContract } from "../licensing-contract.js";
import { referralContract } from "../referral-contract.js";

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

licensingContract("redis", async () => {
  const prefix = `${filePrefix}${++n}:`;
  const store = new RedisRoutingStore({ client: await getClient(), prefix });
  return { store, cleanup: () => cleanRedisPrefix(prefix) };
});

referralContract("redis", async () => {
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
      // Pages of one: the paged read's cursor goes through RESP2 too.
      const store = new RedisRoutingStore({ client: resp2, prefix: `${filePrefix}${++n}:`, snapshotPage: 1 });
      await store.loadScripts();
      await store.addVetConnection(1, "a", "n1", 1000);
      await store.setVetStatus(1, "available", 1000);
      const c = (await store.enqueue(newRequest())).consultation;
      const claim = await store.claimOffer(c.id, 1, 1000, 2000, rulesFor(1));
      expect(claim.ok).toBe(true);
      const d = (await store.enqueue(newRequest())).consultation;
      const snap = await store.snapshot();
      expect(snap.queue.map((q) => [q.id, q.status])).toEqual([
        [c.id, "offered"],
        [d.id, "queued"],
      ]);
      expect(snap.vets).toEqual([await store.getVet(1)]);
      expect(await store.getConsultation(c.id)).toMatchObject(snap.queue[0]);
      expect(await store.claimDue(2000, 10)).toEqual([{ kind: "offer", ref: c.id, at: 2000 }]);
    } finally {
      await resp2.quit();
    }
  });

  describe("the whole-queue read in pages", () => {
    /** A store over `client` with pages of `page`, and a plain one (one page) on the same keys. */
    async function pagedAndWhole(page: number, client?: RedisCommandClient) {
      const prefix = `${filePrefix}${++n}:`;
      const real = await getClient();
      return {
        paged: new RedisRoutingStore({ client: client ?? real, prefix, snapshotPage: page }),
        whole: new RedisRoutingStore({ client: real, prefix, snapshotPage: 10_000 }),
      };
    }

    it("reads the queue page by page into the same snapshot as one read: queue order, a transferred one first, every vet once", async () => {
      const { paged, whole } = await pagedAndWhole(3);
      await paged.addVetConnection(1, "a", "n1", 1000);
      await paged.setVetStatus(1, "available", 1000);
      const first = (await paged.enqueue(newRequest())).consultation;
      expect((await paged.claimOffer(first.id, 1, 1000, 2000, rulesFor(1))).ok).toBe(true);
      await paged.acceptOffer(first.id, 1, 1001);
      for (let i = 0; i < 7; i++) await paged.enqueue(newRequest({ priority: i % 3 === 0 ? "emergency" : undefined }));
      expect(await paged.transfer(first.id, 1002, 60_000)).not.toBeNull(); // now first in queue order
      const snap = await paged.snapshot();
      expect(snap).toEqual(await whole.snapshot());
      expect(snap.queue).toHaveLength(8);
      expect(snap.queue[0]).toMatchObject({ id: first.id, transferred: true });
      expect(new Set(snap.queue.map((c) => c.id)).size).toBe(8);
      expect(snap.vets.map((v) => v.vetId)).toEqual([1]);
    });

    it("a queue of exactly whole pages ends with an empty page; an empty queue is one call", async () => {
      const calls: Array<readonly string[]> = [];
      const real = await getClient();
      const counting: RedisCommandClient = {
        sendCommand(args) {
          calls.push(args);
          return real.sendCommand(args);
        },
      };
      const { paged } = await pagedAndWhole(2, counting);
      await paged.loadScripts(); // no NOSCRIPT round trip in the count
      calls.length = 0;
      expect(await paged.snapshot()).toEqual({ queue: [], vets: [] });
      expect(calls).toHaveLength(1);
      for (let i = 0; i < 4; i++) await paged.enqueue(newRequest());
      calls.length = 0;
      expect((await paged.snapshot()).queue).toHaveLength(4);
      expect(calls).toHaveLength(3); // 2 + 2 + an empty page
    });

    it("restored requests that share a score are all read, when a page ends inside them too", async () => {
      const { paged, whole } = await pagedAndWhole(2);
      // Restored from the database with seq = createdAt: created in the same millisecond, they tie.
      const tied = Array.from({ length: 5 }, () => ({ ...newRequest(), seq: 1_700_000_000_000 }));
      for (const c of tied) expect(await whole.restore(c)).toBe(true);
      const later = (await whole.enqueue(newRequest())).consultation;
      const snap = await paged.snapshot();
      expect(snap.queue.map((c) => c.id)).toEqual((await whole.snapshot()).queue.map((c) => c.id));
      expect(new Set(snap.queue.map((c) => c.id))).toEqual(new Set([...tied.map((c) => c.id), later.id]));
      expect(snap.queue.at(-1)?.id).toBe(later.id);
    });

    it("between pages: a consultation that left is not read, one queued since is", async () => {
      const real = await getClient();
      let between: (() => Promise<void>) | null = null;
      const interleaving: RedisCommandClient = {
        async sendCommand(args) {
          // A page after the first (its cursor is not -inf): run the change first, once.
          if (args[0] === "EVALSHA" && args.length === 6 && args[4] !== "-inf" && between) {
            const change = between;
            between = null;
            await change();
          }
          return real.sendCommand(args);
        },
      };
      const { paged, whole } = await pagedAndWhole(2, interleaving);
      const ids: string[] = [];
      for (let i = 0; i < 6; i++) ids.push((await whole.enqueue(newRequest())).consultation.id);
      let late = "";
      between = async () => {
        await whole.finish(ids[0], 2000, null); // on the page already read
        await whole.finish(ids[3], 2000, null); // on the next page
        late = (await whole.enqueue(newRequest())).consultation.id;
      };
      const snap = await paged.snapshot();
      expect(between).toBeNull(); // the change ran between pages
      expect(snap.queue.map((c) => c.id)).toEqual([ids[0], ids[1], ids[2], ids[4], ids[5], late]);
    });
  });

  it("the class indexes of the queue (qc:*) hold exactly the queued and offered, each under its class, through every step", async () => {
    const prefix = `${filePrefix}${++n}:`;
    const real = await getClient();
    const store = new RedisRoutingStore({ client: real, prefix });
    const keys = routingKeys(prefix);
    const rules = rulesFor(3);
    const indexed = async () => {
      const byClass: Record<string, string[]> = {};
      for (const k of ["t", "e", "p", "n"] as const) byClass[k] = (await real.zRange(keys.queueClass(k), 0, -1)).sort();
      return byClass;
    };
    const inQueue = async () => (await real.zRange(keys.queue, 0, -1)).sort();
    const agree = async () =>
      expect(
        Object.values(await indexed())
          .flat()
          .sort(),
      ).toEqual(await inQueue());
    await store.addVetConnection(1, "a", "n1", 1000);
    await store.setVetStatus(1, "available", 1000);
    const normal = (await store.enqueue(newRequest())).consultation;
    const urgent = (await store.enqueue(newRequest({ priority: "emergency" }))).consultation;
    const other = (await store.enqueue(newRequest({ priority: "protected" }))).consultation;
    expect(await indexed()).toEqual({ t: [], e: [urgent.id], p: [other.id], n: [normal.id] });
    // Offered: still in; accepted: out; the accept undone: back; accepted again, handed over: in as transferred.
    const claim = await store.claimOffer(urgent.id, 1, 2000, 9000, rules);
    expect(claim.ok).toBe(true);
    await agree();
    const accepted = await store.acceptOffer(urgent.id, 1, 2001);
    if (!accepted.ok || !accepted.offer) throw new Error("not accepted");
    expect(await indexed()).toEqual({ t: [], e: [], p: [other.id], n: [normal.id] });
    expect(await store.revertAccept(urgent.id, 1, accepted.offer)).toBe("offered");
    expect(await indexed()).toEqual({ t: [], e: [urgent.id], p: [other.id], n: [normal.id] });
    expect((await store.acceptOffer(urgent.id, 1, 2002)).ok).toBe(true);
    expect(await store.transfer(urgent.id, 3000, 90_000)).not.toBeNull();
    expect(await indexed()).toEqual({ t: [urgent.id], e: [], p: [other.id], n: [normal.id] });
    // Closed: out.
    await store.finish(urgent.id, 4000, null);
    await store.finish(normal.id, 4000, null);
    expect(await indexed()).toEqual({ t: [], e: [], p: [other.id], n: [] });
    // Restored (a rebuild): in, under its class.
    const restored = { ...newRequest({ priority: "protected" }), seq: 1_700_000_000_000 };
    expect(await store.restore(restored)).toBe(true);
    expect(await indexed()).toEqual({ t: [], e: [], p: [other.id, restored.id].sort(), n: [] });
    await agree();
    await cleanRedisPrefix(prefix);
  });
});
