/**
 * `GET /admin/v1/stats/history`: samples per step with a manual clock, in memory and in
 * Redis (two "nodes" sharing one prefix take one sample per step), and the admin route.
 */
import { createClient, type RedisClientType } from "redis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ManualClock } from "../../src/lib/clock.js";
import { createLogger } from "../../src/lib/logger.js";
import { createStatsHistory, summarize, type CountsSource } from "../../src/ops/stats-history.js";
import { seedApp, seedUser, userClient, vetClient, seedVet } from "../support/actors.js";
import { request, startTestGateway, TEST_ADMIN_TOKEN } from "../support/gateway.js";
import { cleanRedisPrefix, REDIS_URL, uniqueRedisPrefix } from "../support/services.js";

const logger = createLogger("silent");
const STEP = 10_000;

/** Counts a test sets by hand (the routing engine's part is tested elsewhere). */
function counts(initial = 0) {
  const c = {
    queue: initial,
    stats: () => Promise.resolve({ queue_length: c.queue, vets: { available: 2 }, open_consultations: c.queue }),
  };
  return c as typeof c & CountsSource;
}

describe("stats history", () => {
  it("summarises latencies as nearest-rank p50/p95 and max", () => {
    expect(summarize([])).toEqual({ matches: 0, match_latency_ms: null });
    const hundred = Array.from({ length: 100 }, (_, i) => 100 - i); // 100..1, unsorted
    expect(summarize(hundred)).toEqual({ matches: 100, match_latency_ms: { p50: 50, p95: 95, max: 100 } });
    expect(summarize([7.4])).toEqual({ matches: 1, match_latency_ms: { p50: 7, p95: 7, max: 7 } });
  });

  it("in memory: one sample per step, the previous step's latencies, the last hour only", async () => {
    const clock = new ManualClock(Date.UTC(2026, 0, 1, 12, 0, 3));
    const source = counts(1);
    const h = createStatsHistory({ source, clock, logger, redis: null });
    await h.tick();
    await h.tick(); // same step: no second sample
    h.recordMatch(120);
    h.recordMatch(80);
    source.queue = 4;
    clock.advance(STEP);
    await h.tick();
    const { step_s, window_s, samples } = await h.history();
    expect({ step_s, window_s }).toEqual({ step_s: 10, window_s: 3600 });
    expect(samples).toEqual([
      {
        t: "2026-01-01T12:00:00.000Z",
        queue_length: 1,
        vets: { available: 2, away: 0, busy: 0, offline: 0 },
        open_consultations: 1,
        matches: 0,
        match_latency_ms: null,
      },
      {
        t: "2026-01-01T12:00:10.000Z",
        queue_length: 4,
        vets: { available: 2, away: 0, busy: 0, offline: 0 },
        open_consultations: 4,
        matches: 2,
        match_latency_ms: { p50: 80, p95: 120, max: 120 },
      },
    ]);

    // An hour of steps later the first two have aged out.
    for (let i = 0; i < 360; i++) {
      clock.advance(STEP);
      await h.tick();
    }
    const later = (await h.history()).samples;
    expect(later).toHaveLength(360);
    expect(later[0].t).toBe("2026-01-01T12:00:20.000Z");
    expect(later.at(-1)!.t).toBe("2026-01-01T13:00:10.000Z");
  });

  describe("in Redis", () => {
    let redis: RedisClientType;
    const prefix = uniqueRedisPrefix("stats");
    beforeAll(async () => {
      redis = createClient({ url: REDIS_URL });
      await redis.connect();
    });
    afterAll(async () => {
      await redis.quit();
      await cleanRedisPrefix(prefix);
    });

    it("two nodes take one sample per step between them, count both nodes' matches, and answer the same", async () => {
      const clock = new ManualClock(Date.UTC(2026, 0, 1, 12, 0, 0, 500));
      const source = counts(2);
      const a = createStatsHistory({ source, clock, logger, redis, prefix });
      const b = createStatsHistory({ source, clock, logger, redis, prefix });
      await Promise.all([a.tick(), b.tick()]);
      a.recordMatch(300);
      b.recordMatch(100);
      b.recordMatch(200);
      clock.advance(STEP);
      await Promise.all([b.tick(), a.tick()]);
      const fromA = await a.history();
      expect(await b.history()).toEqual(fromA);
      expect(fromA.samples.map((s) => [s.t, s.matches, s.match_latency_ms])).toEqual([
        ["2026-01-01T12:00:00.000Z", 0, null],
        ["2026-01-01T12:00:10.000Z", 3, { p50: 200, p95: 300, max: 300 }],
      ]);
    });

    it("stores a node's latencies in one write per flush, and samples a step only after every node could flush", async () => {
      const p = uniqueRedisPrefix("statsbatch");
      const sent: string[][] = [];
      const counting = {
        sendCommand: <T>(args: ReadonlyArray<string>) => (sent.push([...args]), redis.sendCommand<T>([...args])),
      };
      const clock = new ManualClock(Date.UTC(2026, 0, 1, 12, 0, 0, 500));
      const source = counts(0);
      const sampler = createStatsHistory({ source, clock, logger, redis, prefix: p, flushMs: 40 });
      const busy = createStatsHistory({ source, clock, logger, redis: counting, prefix: p, flushMs: 40 });
      try {
        await sampler.tick();
        for (let i = 1; i <= 50; i++) busy.recordMatch(i);
        expect(sent).toEqual([]); // buffered, not one round trip per match
        // The busy node's timer flushes; the sampler's tick never flushes the busy node's buffer.
        await expect.poll(() => sent.filter((c) => c[0] === "RPUSH").length, { timeout: 2000 }).toBe(1);
        const rpush = sent.find((c) => c[0] === "RPUSH")!;
        expect(rpush.slice(2)).toEqual(Array.from({ length: 50 }, (_, i) => String(i + 1)));
        expect(sent.map((c) => c[0])).toEqual(["RPUSH", "PEXPIRE"]);

        // At the step boundary the sampler waits (another node may still hold latencies)...
        clock.advance(STEP - 500);
        await sampler.tick();
        expect((await sampler.history()).samples).toHaveLength(1);
        // ...and samples once the settle time (2 flushes) has passed.
        clock.advance(80);
        await sampler.tick();
        const samples = (await sampler.history()).samples;
        expect(samples.map((s) => [s.t, s.matches, s.match_latency_ms])).toEqual([
          ["2026-01-01T12:00:00.000Z", 0, null],
          ["2026-01-01T12:00:10.000Z", 50, { p50: 25, p95: 48, max: 50 }],
        ]);
      } finally {
        await sampler.close();
        await busy.close();
        await cleanRedisPrefix(p);
      }
    });
  });

  it("is served at GET /admin/v1/stats/history behind ADMIN_TOKEN, from the live counts and matches", async () => {
    // The gateway's clock is manual: a step passes when the test says so (its 1 s timer samples).
    // One second into the step: past the wait for other nodes' latencies (Redis history).
    const clock = new ManualClock(Date.UTC(2026, 0, 1, 12, 0, 1));
    const t = await startTestGateway({ redis: true, clock });
    const get = () =>
      request(t.url, "GET", "/admin/v1/stats/history", { headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` } });
    try {
      expect((await request(t.url, "GET", "/admin/v1/stats/history")).status).toBe(401);
      const first = await get();
      expect(first.status).toBe(200);
      expect(first.body).toMatchObject({ success: true, data: { step_s: 10, window_s: 3600 } });
      expect(first.body.data.samples).toEqual([
        {
          t: "2026-01-01T12:00:00.000Z",
          queue_length: 0,
          waiting_advice: 0,
          vets: expect.objectContaining({ available: 0, away: 0, busy: 0, offline: 0 }),
          open_consultations: 0,
          matches: 0,
          match_latency_ms: null,
        },
      ]);

      const app = await seedApp(t.gateway);
      const v = await seedVet(t.gateway);
      const vet = await vetClient(t.url, v.token);
      const u = await seedUser(t.gateway, app.id);
      const owner = await userClient(t.url, u.token);
      const { data } = await owner.ask("consult:request", { conversation_request: "chat", pet_id: u.petId });
      await vet.next("consult:offer");
      clock.advance(1500);
      expect((await vet.ask("consult:accept", { consultation_id: data.consultation_id })).success).toBe(true);

      clock.advance(10_000);
      await expect.poll(async () => (await get()).body.data.samples.length, { timeout: 5000 }).toBe(2);
      const second = (await get()).body.data.samples[1];
      expect(second).toMatchObject({
        t: "2026-01-01T12:00:10.000Z",
        open_consultations: 1,
        matches: 1,
        match_latency_ms: { p50: 1500, p95: 1500, max: 1500 },
      });
      expect(second.vets.busy).toBe(1);
      owner.close();
      vet.close();
    } finally {
      await t.close();
    }
  });
});
