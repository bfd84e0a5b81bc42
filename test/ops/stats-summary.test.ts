/**
 * PROTOCOL §9 statistics: the summary of a scripted day of consultations, on PostgreSQL and
 * PGlite, read live and again once the day closed into `stats_daily`; and the HTTP route.
 */
import { randomUUID } from "node:crypto";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openDatabase, type Database } from "../../src/db/database.js";
import { consultations, feedback, statsDaily } from "../../src/db/schema.js";
import { ManualClock } from "../../src/lib/clock.js";
import { bucketOf, quantile } from "../../src/ops/histogram.js";
import { StatsSummary } from "../../src/ops/stats-summary.js";
import { createRepositories } from "../../src/repositories/index.js";
import { request, startTestGateway, TEST_ADMIN_TOKEN, type TestGateway } from "../support/gateway.js";
import { createTestDatabase, type TestDatabase } from "../support/services.js";

const DAY = "2026-11-10";
const at = (hms: string) => new Date(`${DAY}T${hms}.000Z`);
const plus = (d: Date, s: number) => new Date(d.getTime() + s * 1000);

/** Within the histogram's ±7.5 %. */
const near = (actual: number | null, exact: number) => {
  expect(actual).not.toBeNull();
  expect(Math.abs(actual! - exact) / exact).toBeLessThanOrEqual(0.075);
};

describe.each(["postgres", "pglite"] as const)("the summary of a scripted day on %s", (kind) => {
  let database: Database;
  let tdb: TestDatabase | null = null;
  let clock: ManualClock;
  let summary: StatsSummary;
  let appA: number;
  let appB: number;
  let vet1: number;
  let vet2: number;
  beforeAll(async () => {
    if (kind === "postgres") tdb = await createTestDatabase("summary");
    database = await openDatabase(tdb ? { url: tdb.url } : { pgliteDir: "memory://" });
    const repos = createRepositories(database);
    appA = (await repos.apps.create({ name: "sum-a", secret: "sum-a-secret-0123456789" })).id;
    appB = (await repos.apps.create({ name: "sum-b", secret: "sum-b-secret-0123456789" })).id;
    vet1 = (
      await repos.vets.create({ email: "v1@sum.example", password: "password-123", firstName: "V", lastName: "One" })
    ).id;
    vet2 = (
      await repos.vets.create({ email: "v2@sum.example", password: "password-123", firstName: "V", lastName: "Two" })
    ).id;
    const owner = async (appId: number, n: number) =>
      (
        await repos.users.register(
          appId,
          { email: `o${String(n)}@sum.example`, firstName: "O", lastName: null, role: "users", emergencyFund: 0 },
          at("00:00:00"),
        )
      ).user.id;
    const ownerA = await owner(appA, 1);
    const ownerB = await owner(appB, 2);
    // The day, per app and vet:
    //  app A: 4 matched by vet 1 (waits 10, 20, 30, 40 s; handled 300, 600, 900 s and one still
    //         active), 1 cancelled before a match, 1 expired, 1 duplicate (not counted)
    //  app B: 2 matched by vet 2 (waits 5 s and 120 s; handled 60 s and 1200 s), 1 cancelled before a match
    const rows: Array<typeof consultations.$inferInsert> = [];
    const add = (appId: number, userId: number, created: string, c: Partial<typeof consultations.$inferInsert>) => {
      const id = randomUUID();
      rows.push({
        id,
        appId,
        userId,
        type: "chat",
        source: "socket",
        status: "queued",
        createdAt: at(created),
        updatedAt: at(created),
        ...c,
      });
      return id;
    };
    const matched = (
      appId: number,
      userId: number,
      created: string,
      vetId: number,
      wait: number,
      handle: number | null,
    ) =>
      add(appId, userId, created, {
        vetId,
        status: handle === null ? "active" : "ended",
        acceptedAt: plus(at(created), wait),
        ...(handle === null ? {} : { endedAt: plus(at(created), wait + handle), endedBy: "vet" as const }),
      });
    const a1 = matched(appA, ownerA, "09:00:00", vet1, 10, 300);
    const a2 = matched(appA, ownerA, "10:00:00", vet1, 20, 600);
    matched(appA, ownerA, "11:00:00", vet1, 30, 900);
    matched(appA, ownerA, "12:00:00", vet1, 40, null);
    add(appA, ownerA, "13:00:00", { status: "cancelled", endedAt: at("13:05:00"), endedBy: "user" });
    add(appA, ownerA, "14:00:00", { status: "expired", endedAt: at("14:10:00"), endedBy: "system" });
    add(appA, ownerA, "15:00:00", { status: "cancelled", endReason: "duplicate" });
    const b1 = matched(appB, ownerB, "09:30:00", vet2, 5, 60);
    matched(appB, ownerB, "10:30:00", vet2, 120, 1200);
    add(appB, ownerB, "16:00:00", { status: "cancelled", endedAt: at("16:01:00"), endedBy: "user" });
    // Another day, outside the range.
    add(appA, ownerA, "23:59:59", { createdAt: new Date("2026-11-11T00:00:01.000Z"), status: "expired" });
    await database.db.insert(consultations).values(rows);
    await database.db.insert(feedback).values([
      { consultationId: a1, vetId: vet1, recommendation: "r", reason: "x", outcome: "resolved" },
      { consultationId: a2, vetId: vet1, recommendation: "r", reason: "x", outcome: "follow_up" },
      { consultationId: b1, vetId: vet2, recommendation: "r", reason: "x", outcome: "resolved" },
    ]);
    // The day after: DAY is recent, so it is read live (and has an active consultation).
    clock = new ManualClock(Date.parse("2026-11-11T12:00:00.000Z"));
    summary = new StatsSummary(database.db, clock);
  });
  afterAll(async () => {
    await database?.close();
    await tdb?.drop();
  });

  const check = async () => {
    const s = await summary.summary({ from: DAY, to: DAY });
    expect(s).toMatchObject({
      from: DAY,
      to: DAY,
      app_id: null,
      vet_id: null,
      requests: 9,
      matched: 6,
      cancelled_before_match: 2,
      expired: 1,
    });
    expect(s.abandonment_rate).toBeCloseTo(2 / 9, 4);
    expect(s.wait_s.avg).toBeCloseTo((10 + 20 + 30 + 40 + 5 + 120) / 6, 3);
    // Nearest rank of 5, 10, 20, 30, 40, 120 s.
    near(s.wait_s.p50, 20);
    near(s.wait_s.p90, 120);
    expect(s.handle_s.avg).toBeCloseTo((300 + 600 + 900 + 60 + 1200) / 5, 3);
    near(s.handle_s.p50, 600);
    expect(s.by_outcome).toEqual({ resolved: 2, follow_up: 1 });
    expect(s.by_app.map((a) => [a.app_id, a.requests, a.matched, a.cancelled_before_match, a.expired])).toEqual([
      [appA, 6, 4, 1, 1],
      [appB, 3, 2, 1, 0],
    ]);
    expect(s.by_vet.map((v) => [v.vet_id, v.requests, v.matched])).toEqual([
      [vet1, 4, 4],
      [vet2, 2, 2],
    ]);
    expect(s.by_vet[0].wait_s.avg).toBeCloseTo(25, 3);
    expect(s.days).toHaveLength(1);
    expect(s.days[0]).toMatchObject({ day: DAY, requests: 9, matched: 6 });
    const onlyB = await summary.summary({ from: DAY, to: DAY, appId: appB });
    expect(onlyB).toMatchObject({
      app_id: appB,
      requests: 3,
      matched: 2,
      cancelled_before_match: 1,
      by_outcome: { resolved: 1 },
    });
    const onlyVet1 = await summary.summary({ from: DAY, to: DAY, vetId: vet1 });
    expect(onlyVet1).toMatchObject({ requests: 4, matched: 4, cancelled_before_match: 0, expired: 0 });
    const twoDays = await summary.summary({ from: DAY, to: "2026-11-11" });
    expect(twoDays.requests).toBe(10);
    expect(twoDays.days.map((d) => [d.day, d.requests])).toEqual([
      [DAY, 9],
      ["2026-11-11", 1],
    ]);
  };

  it("reads a recent day live from the consultations", async () => {
    await check();
    expect(await database.db.$count(statsDaily)).toBe(0);
  });

  it("keeps a day with an open consultation live, even when old; closes it once nothing is open, with the same figures", async () => {
    clock.set(Date.parse("2026-11-20T00:00:00.000Z"));
    await check();
    const rowsOfDay = () => database.db.$count(statsDaily, eq(statsDaily.day, DAY));
    expect(await rowsOfDay()).toBe(0); // the active consultation keeps it open
    expect(await database.db.$count(statsDaily, eq(statsDaily.day, "2026-11-11"))).toBe(1); // the next day had nothing open: closed
    await database.db
      .update(consultations)
      .set({ status: "ended", endedAt: at("13:00:00") })
      .where(eq(consultations.status, "active"));
    // Ended now: handled 13:00 - 12:00:40 = 3560 s; one more ended, the rest unchanged.
    const s = await summary.summary({ from: DAY, to: DAY });
    expect(await rowsOfDay()).toBe(4); // per app and vet: A with vet 1 and without, B with vet 2 and without
    expect(s.handle_s.avg).toBeCloseTo((300 + 600 + 900 + 60 + 1200 + 3560) / 6, 3);
    expect(s).toMatchObject({
      requests: 9,
      matched: 6,
      cancelled_before_match: 2,
      expired: 1,
      by_outcome: { resolved: 2, follow_up: 1 },
    });
    // Read again from the stored rows alone.
    const again = await summary.summary({ from: DAY, to: DAY });
    expect(again).toEqual(s);
  });
});

describe("histograms", () => {
  it("buckets durations on a log scale and interpolates quantiles within 7.5 %", () => {
    expect(bucketOf(0)).toBe(0);
    expect(bucketOf(999)).toBe(0);
    expect(bucketOf(1000)).toBe(1);
    for (const values of [[1_500, 2_500, 90_000], Array.from({ length: 200 }, (_, i) => 1000 + i * 997)]) {
      const h: Record<string, number> = {};
      for (const v of values) h[bucketOf(v)] = (h[bucketOf(v)] ?? 0) + 1;
      const sorted = [...values].sort((a, b) => a - b);
      for (const p of [0.5, 0.9]) {
        const exact = sorted[Math.ceil(p * sorted.length) - 1];
        expect(Math.abs(quantile(h, p)! - exact) / exact).toBeLessThanOrEqual(0.075);
      }
    }
    expect(quantile({}, 0.5)).toBeNull();
  });
});

describe("GET /admin/v1/stats/summary", () => {
  let t: TestGateway;
  beforeAll(async () => {
    t = await startTestGateway({ db: "pglite" });
  });
  afterAll(async () => {
    await t?.close();
  });
  const get = (query: string) =>
    request(t.url, "GET", `/admin/v1/stats/summary${query}`, {
      headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` },
    });

  it("answers the last 30 days by default, a given range, and 422 for bad dates, reversed or too long ranges", async () => {
    const def = await get("");
    expect(def.status).toBe(200);
    expect(def.body.data.days).toHaveLength(30);
    expect(def.body.data).toMatchObject({
      requests: 0,
      abandonment_rate: 0,
      wait_s: { avg: null, p50: null, p90: null },
    });
    expect((await get("?from=2026-11-01&to=2026-11-07")).body.data.days).toHaveLength(7);
    for (const q of [
      "?from=2026-13-01",
      "?to=yesterday",
      "?from=2026-11-08&to=2026-11-07",
      "?from=2024-01-01&to=2026-01-01",
      "?app_id=x",
      "?nope=1",
    ]) {
      const res = await get(q);
      expect(res.status, q).toBe(422);
    }
    expect((await request(t.url, "GET", "/admin/v1/stats/summary")).status).toBe(401);
  });
});
