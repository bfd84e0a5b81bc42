/**
 * The webhook rows the ledger's statements write with a change (PROTOCOL §9), on PostgreSQL
 * and PGlite: a request the owner never had (refused by the per-app cap, a duplicate of their
 * own, not recorded in time) sends a partner nothing, unless its `consultation.queued` may
 * already have gone out; then `consultation.cancelled` closes it.
 */
import { randomUUID } from "node:crypto";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openDatabase, type Database } from "../../src/db/database.js";
import { webhookOutbox } from "../../src/db/schema.js";
import { AppRepository } from "../../src/repositories/apps.js";
import { ConsultationLedger } from "../../src/repositories/ledger.js";
import { UserRepository } from "../../src/repositories/users.js";
import { queuedRequest } from "../support/live-consultations.js";
import { createTestDatabase, type TestDatabase } from "../support/services.js";

const T0 = Date.UTC(2026, 0, 1, 12);

describe.each(["postgres", "pglite"] as const)("webhook rows of cancelled requests on %s", (kind) => {
  let tdb: TestDatabase | null = null;
  let database: Database;
  let ledger: ConsultationLedger;
  let appId: number;
  let userId: number;

  beforeAll(async () => {
    if (kind === "postgres") tdb = await createTestDatabase("stmts");
    database = await openDatabase(tdb ? { url: tdb.url } : { pgliteDir: "memory://" });
    appId = (
      await new AppRepository(database.db).create({
        name: "hooks",
        secret: "hooks-secret-0123456789",
        webhookUrl: "https://partner.example/hooks",
      })
    ).id;
    userId = (
      await new UserRepository(database.db).register(
        appId,
        { email: "o@example.com", firstName: "O", role: "users", emergencyFund: 0 },
        new Date(T0),
      )
    ).user.id;
    ledger = new ConsultationLedger(database);
  });
  afterAll(async () => {
    await database?.close();
    await tdb?.drop();
  });

  const types = async (id: string) =>
    (
      await database.db
        .select({ type: webhookOutbox.type })
        .from(webhookOutbox)
        .where(eq(webhookOutbox.consultationId, id))
        .orderBy(webhookOutbox.id)
    ).map((r) => r.type);

  async function queued(): Promise<string> {
    const c = queuedRequest({ id: randomUUID(), appId, userId, createdAt: T0 });
    await ledger.create(c, "socket");
    expect(await types(c.id)).toEqual(["consultation.queued"]);
    return c.id;
  }

  for (const endReason of ["app_queue_full", "duplicate", "not_recorded"]) {
    it(`${endReason}: the queued event nobody tried to deliver is withdrawn, and no cancelled follows`, async () => {
      const id = await queued();
      await ledger.transition(id, "cancelled", T0 + 10, { endReason });
      expect(await types(id)).toEqual([]);
    });
  }

  it("a queued event already tried: the cancelled one follows, to close it", async () => {
    const id = await queued();
    await database.db.update(webhookOutbox).set({ attempts: 1 }).where(eq(webhookOutbox.consultationId, id));
    await ledger.transition(id, "cancelled", T0 + 10, { endReason: "duplicate" });
    expect(await types(id)).toEqual(["consultation.queued", "consultation.cancelled"]);
  });

  it("an owner's own cancel is told as ever", async () => {
    const id = await queued();
    await ledger.transition(id, "cancelled", T0 + 10, { endedBy: "user" });
    expect(await types(id)).toEqual(["consultation.queued", "consultation.cancelled"]);
  });

  it("talk-to-vet: consultation.matched is dated at the accept, so its body shows the vet", async () => {
    const c = queuedRequest(
      { id: randomUUID(), appId, userId, createdAt: T0 },
      { status: "active", vetId: null, acceptedAt: T0 + 3 },
    );
    await ledger.create(c, "rest");
    const rows = await database.db.select().from(webhookOutbox).where(eq(webhookOutbox.consultationId, c.id));
    expect(rows.map((r) => [r.type, r.occurredAt.getTime()])).toEqual([["consultation.matched", T0 + 3]]);
  });
});
