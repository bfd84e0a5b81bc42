/** The webhook outbox's claim rules on PostgreSQL and PGlite: leases, order per consultation, retries, pruning, health. */
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openDatabase, type Database } from "../../src/db/database.js";
import { webhookOutbox } from "../../src/db/schema.js";
import { AppRepository } from "../../src/repositories/apps.js";
import { WebhookOutbox } from "../../src/webhooks/outbox.js";
import { retryDelay } from "../../src/webhooks/dispatcher.js";
import { createTestDatabase, type TestDatabase } from "../support/services.js";

describe.each(["postgres", "pglite"] as const)("webhook outbox on %s", (kind) => {
  let database: Database;
  let tdb: TestDatabase | null = null;
  let outbox: WebhookOutbox;
  let appId: number;
  const t0 = new Date("2026-12-01T12:00:00.000Z");
  const at = (ms: number) => new Date(t0.getTime() + ms);
  beforeAll(async () => {
    if (kind === "postgres") tdb = await createTestDatabase("outbox");
    database = await openDatabase(tdb ? { url: tdb.url } : { pgliteDir: "memory://" });
    outbox = new WebhookOutbox(database);
    appId = (await new AppRepository(database.db).create({ name: "hooks", secret: "hooks-secret-0123456789" })).id;
  });
  afterAll(async () => {
    await database?.close();
    await tdb?.drop();
  });

  const add = async (consultationId: string, type: string, ms: number) =>
    (
      await database.db
        .insert(webhookOutbox)
        .values({ appId, consultationId, type, occurredAt: at(ms), nextAttemptAt: at(ms) })
        .returning({ id: webhookOutbox.id })
    )[0].id;

  it("leases what it claims; a lapsed lease is claimed again; events of one consultation wait for the earlier one", async () => {
    const a = randomUUID();
    const b = randomUUID();
    const a1 = await add(a, "consultation.queued", 0);
    const a2 = await add(a, "consultation.matched", 10);
    const b1 = await add(b, "consultation.queued", 20);
    const first = await outbox.claim(at(1_000), 10, 5_000, 60_000);
    expect(first.map((e) => e.id)).toEqual([a1, b1]);
    expect(first[0]).toMatchObject({ attempt: 1, body: null, retryUntil: at(60_000) });
    // Leased: nobody (this node or another) claims them again until the lease lapses.
    expect(await outbox.claim(at(2_000), 10, 5_000, 60_000)).toEqual([]);
    const again = await outbox.claim(at(6_001), 10, 5_000, 60_000);
    expect(again.map((e) => [e.id, e.attempt])).toEqual([
      [a1, 2],
      [b1, 2],
    ]);
    // a1 delivered: a2 becomes claimable; b1 fails for good: gone from the queue.
    await outbox.delivered(a1, at(6_100), 200, '{"type":"consultation.queued"}');
    await outbox.attemptFailed(b1, {
      status: 500,
      error: "HTTP 500",
      nextAttemptAt: at(9_000),
      giveUp: true,
      body: "{}",
    });
    const next = await outbox.claim(at(6_200), 10, 5_000, 60_000);
    expect(next.map((e) => e.id)).toEqual([a2]);
    // A failed attempt that is retried later waits for its time.
    await outbox.attemptFailed(a2, {
      status: null,
      error: "ECONNREFUSED",
      nextAttemptAt: at(20_000),
      giveUp: false,
      body: '{"b":1,"a":2}',
    });
    expect(await outbox.claim(at(19_999), 10, 5_000, 60_000)).toEqual([]);
    const later = await outbox.claim(at(20_000), 10, 5_000, 60_000);
    expect(later).toMatchObject([{ id: a2, attempt: 2, body: '{"b":1,"a":2}' }]); // the same bytes as the first attempt
    await outbox.delivered(a2, at(20_100), 204, '{"b":1,"a":2}');

    const health = await outbox.health(appId);
    expect(health).toMatchObject({
      pending: 0,
      failed: 1,
      lastSuccessAt: at(20_100),
      oldestPendingAt: null,
      failuresInARow: 0,
    });
    const log = await outbox.recent(appId);
    expect(log.map((d) => [d.id, d.status])).toEqual([
      [b1, "failed"],
      [a2, "delivered"],
      [a1, "delivered"],
    ]);
    // An operator's retry: pending at once, with a new window.
    expect(await outbox.retry(b1, at(30_000), 60_000)).toEqual({ appId });
    expect(await outbox.claim(at(30_000), 10, 5_000, 60_000)).toMatchObject([
      { id: b1, attempt: 3, retryUntil: at(90_000) },
    ]);
    expect(await outbox.retry(999_999_999, at(30_000), 60_000)).toBeNull();
    await outbox.delivered(b1, at(30_100), 200, "{}");
  });

  it("counts failures since the last success and the oldest pending event", async () => {
    const c = randomUUID();
    const e1 = await add(c, "consultation.queued", 100_000);
    await add(c, "consultation.matched", 100_010);
    await outbox.claim(at(100_100), 10, 5_000, 60_000);
    await outbox.attemptFailed(e1, {
      status: 502,
      error: "HTTP 502",
      nextAttemptAt: at(101_000),
      giveUp: false,
      body: "{}",
    });
    expect(await outbox.health(appId)).toMatchObject({ failuresInARow: 1, pending: 2, oldestPendingAt: at(100_000) });
    expect(await outbox.oldestPending()).toEqual(at(100_000));
  });

  it("prunes finished events older than the retention, never pending ones", async () => {
    const before = await outbox.recent(appId, 1_000);
    const gone = await outbox.prune(new Date(Date.now() + 60_000));
    expect(gone).toBe(before.filter((d) => d.status !== "pending").length);
    expect((await outbox.recent(appId, 1_000)).every((d) => d.status === "pending")).toBe(true);
  });
});

describe("retry delays", () => {
  it("grow from the base by doubling, with jitter between half and the whole step, capped", () => {
    expect(retryDelay(1, 5_000, 3_600_000, () => 0)).toBe(2_500);
    expect(retryDelay(1, 5_000, 3_600_000, () => 1)).toBe(5_000);
    expect(retryDelay(3, 5_000, 3_600_000, () => 1)).toBe(20_000);
    expect(retryDelay(40, 5_000, 3_600_000, () => 1)).toBe(3_600_000);
    // Attempts over 24 h at base 5 s: about 40 (the wait between two is capped at 1 h).
    let total = 0;
    let n = 0;
    while (total < 86_400_000) total += retryDelay(++n, 5_000, 3_600_000, () => 0.5);
    expect(n).toBeGreaterThan(20);
    expect(n).toBeLessThan(50);
  });
});
