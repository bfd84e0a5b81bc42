/** The consultation ledger, apps and vets repositories on PostgreSQL and on PGlite. */
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openDatabase, type Database } from "../../src/db/database.js";
import type { LiveConsultation } from "../../src/domain/types.js";
import { AppRepository, type AppRecord } from "../../src/repositories/apps.js";
import { ConsultationRepository } from "../../src/repositories/consultations.js";
import { UserRepository } from "../../src/repositories/users.js";
import { VetRepository, type VetRecord } from "../../src/repositories/vets.js";
import { createTestDatabase, type TestDatabase } from "../support/services.js";

const T0 = Date.UTC(2026, 0, 1);

describe.each(["postgres", "pglite"] as const)("ledger, apps and vets on %s", (kind) => {
  let database: Database;
  let tdb: TestDatabase | null = null;
  let apps: AppRepository;
  let vets: VetRepository;
  let ledger: ConsultationRepository;
  let appA: AppRecord;
  let appB: AppRecord;
  let vet: VetRecord;
  let userId: number;
  let petId: number;

  beforeAll(async () => {
    if (kind === "postgres") tdb = await createTestDatabase("ledger");
    database = await openDatabase(tdb ? { url: tdb.url } : { pgliteDir: "memory://" });
    apps = new AppRepository(database.db);
    vets = new VetRepository(database.db);
    ledger = new ConsultationRepository(database);
    appA = await apps.create({ name: "app-a", secret: "secret-a-0123456789" });
    appB = await apps.create({ name: "app-b", secret: "secret-b-0123456789" });
    vet = await vets.create({ email: "Dr.Who@Example.com", password: "pw-12345678", firstName: "Dr", lastName: "Who" });
    const users = new UserRepository(database.db);
    const { user, pet } = await users.register(
      appA.id,
      { email: "o@example.com", firstName: "O", role: "users", emergencyFund: 0 },
      new Date(T0),
      { name: "Rex" },
    );
    userId = user.id;
    petId = pet!.id;
  });
  afterAll(async () => {
    await database.close();
    await tdb?.drop();
  });

  const live = (over: Partial<LiveConsultation> = {}): LiveConsultation => ({
    id: randomUUID(),
    appId: appA.id,
    userId,
    petId,
    type: "chat",
    status: "queued",
    seq: 1,
    createdAt: T0,
    queueDeadline: T0 + 600_000,
    requestedVetId: null,
    offer: null,
    excludedVetIds: [],
    vetId: null,
    acceptedAt: null,
    channelSid: null,
    roomSid: null,
    profile: { user: { id: userId, first_name: "O", last_name: null, email: "o@example.com" }, pet: null },
    ...over,
  });

  it("apps: unique names (409), secrets stored only as scrypt hashes", async () => {
    await expect(apps.create({ name: "app-a", secret: "another-secret-123" })).rejects.toMatchObject({ status: 409 });
    const stored = await apps.findWithSecret(appA.id);
    expect(stored!.secretHash).toMatch(/^scrypt\$/);
    expect(stored!.secretHash).not.toContain("secret-a-0123456789");
    expect(await apps.findByName("app-a")).toEqual(appA);
    expect(await apps.findById(appB.id)).toEqual(appB);
    expect(await apps.findByName("nope")).toBeNull();
  });

  it("vets: case-insensitive email, constant-shape login, 409 on duplicates", async () => {
    expect(vet.email).toBe("dr.who@example.com");
    await expect(vets.create({ email: "DR.WHO@example.com", password: "x-12345678", firstName: "a", lastName: "b" })).rejects.toMatchObject({
      status: 409,
    });
    expect((await vets.verifyCredentials("DR.who@example.com", "pw-12345678"))?.id).toBe(vet.id);
    expect(await vets.verifyCredentials("dr.who@example.com", "wrong")).toBeNull();
    expect(await vets.verifyCredentials("nobody@example.com", "pw-12345678")).toBeNull();
    expect((await vets.findByEmail("Dr.Who@example.COM"))?.id).toBe(vet.id);
    expect(await vets.findByIds([vet.id, 999_999])).toEqual([vet]);
  });

  it("records a consultation's transitions, offers and SIDs, scoped by app", async () => {
    const c = live();
    await ledger.create(c, "socket");
    await ledger.offerMade(c.id, vet.id, T0 + 10, T0 + 30_010, false);
    await ledger.offerEnded(c.id, vet.id, "accepted", T0 + 20, false);
    await ledger.transition(c.id, "active", T0 + 20, { vetId: vet.id });
    await ledger.setSids(c.id, { channelSid: "CH" + "a".repeat(32) });
    await ledger.note(c.id, T0 + 25, { call_status: "accepted" });
    await ledger.transition(c.id, "ended", T0 + 30, { endedBy: "vet" });

    expect(await ledger.get(c.id)).toMatchObject({ status: "ended", vetId: vet.id, channelSid: "CH" + "a".repeat(32) });
    expect((await ledger.history(c.id)).map((h) => [h.from, h.to])).toEqual([
      [null, "queued"],
      ["queued", "offered"],
      ["offered", "active"],
      ["active", "active"],
      ["active", "ended"],
    ]);
    expect(await ledger.offersOf(c.id)).toEqual([{ vetId: vet.id, outcome: "accepted" }]);
    expect((await ledger.findByChannel(appA.id, "CH" + "a".repeat(32)))?.id).toBe(c.id);
    expect(await ledger.findByChannel(appB.id, "CH" + "a".repeat(32))).toBeNull(); // another app
    expect(await ledger.get("not-a-uuid")).toBeNull();
  });

  it("resolves the accepted offer in the same write as the transition to active", async () => {
    const c = live();
    await ledger.create(c, "socket");
    await ledger.offerMade(c.id, vet.id, T0 + 1, T0 + 30_001, false);
    await ledger.transition(c.id, "active", T0 + 2, { vetId: vet.id, resolvedOffer: { vetId: vet.id, outcome: "accepted" } });
    expect(await ledger.offersOf(c.id)).toEqual([{ vetId: vet.id, outcome: "accepted" }]);
    expect(await ledger.get(c.id)).toMatchObject({ status: "active", vetId: vet.id });
  });

  it("an accept written after the end still records the vet and channel, without reviving the status", async () => {
    const c = live();
    await ledger.create(c, "socket");
    await ledger.transition(c.id, "ended", T0 + 60, { endedBy: "user" });
    await ledger.transition(c.id, "active", T0 + 50, { vetId: vet.id, channelSid: "CH" + "b".repeat(32) });
    expect(await ledger.get(c.id)).toMatchObject({ status: "ended", vetId: vet.id, channelSid: "CH" + "b".repeat(32) });
  });

  it("late writes from another node never move a status back, nor past a terminal one", async () => {
    const c = live();
    await ledger.create(c, "socket");
    await ledger.transition(c.id, "active", T0 + 50, { vetId: vet.id });
    await ledger.transition(c.id, "offered", T0 + 40); // arrived late
    expect((await ledger.get(c.id))?.status).toBe("active");
    await ledger.transition(c.id, "ended", T0 + 60);
    await ledger.transition(c.id, "queued", T0 + 70); // a stray write after the end
    expect((await ledger.get(c.id))?.status).toBe("ended");
    // Every event is still in the history.
    expect((await ledger.history(c.id)).map((h) => h.to)).toEqual(["queued", "offered", "active", "ended", "queued"]);
  });

  it("feedback: one per consultation, a later one replaces it, joined with the vet's name", async () => {
    const c = live({ type: "video" });
    await ledger.create(c, "rest");
    expect(await ledger.findFeedback(c.id)).toBeNull();
    await ledger.saveFeedback(c.id, vet.id, "first", "r1", T0 + 1);
    await ledger.saveFeedback(c.id, vet.id, "second", "r2", T0 + 2);
    expect(await ledger.findFeedback(c.id)).toEqual({
      consultationId: c.id,
      type: "video",
      vetFirstName: "Dr",
      vetLastName: "Who",
      recommendation: "second",
      reason: "r2",
      updatedAt: new Date(T0 + 2),
    });
  });

  it("resolves the newest open offer of a vet when the same vet was offered twice", async () => {
    const c = live();
    await ledger.create(c, "socket");
    await ledger.offerMade(c.id, vet.id, T0 + 1, T0 + 2, true);
    await ledger.offerEnded(c.id, vet.id, "timeout", T0 + 2, true);
    await ledger.offerMade(c.id, vet.id, T0 + 3, T0 + 4, true);
    await ledger.offerEnded(c.id, vet.id, "declined", T0 + 4, true);
    expect(await ledger.offersOf(c.id)).toEqual([
      { vetId: vet.id, outcome: "timeout" },
      { vetId: vet.id, outcome: "declined" },
    ]);
    expect((await ledger.history(c.id)).map((h) => h.to)).toEqual(["queued", "offered", "queued", "offered", "queued"]);
    expect((await ledger.get(c.id))?.status).toBe("queued");
  });
});
