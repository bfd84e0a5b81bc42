/**
 * PROTOCOL §10 pet history in the database, on PostgreSQL and PGlite: what counts as a past
 * consultation (the history and `history_count` agree), order, paging, fields, and who held
 * a consultation about the pet.
 */
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openDatabase, type Database } from "../../src/db/database.js";
import type { LiveConsultation } from "../../src/domain/types.js";
import { ManualClock } from "../../src/lib/clock.js";
import { createDirectory } from "../../src/repositories/directory.js";
import { createRepositories, type Repositories } from "../../src/repositories/index.js";
import { PetHistoryReader } from "../../src/repositories/pet-history.js";
import { createTestDatabase, type TestDatabase } from "../support/services.js";

const T0 = Date.UTC(2026, 10, 1, 9, 0, 0);

describe.each(["postgres", "pglite"] as const)("pet history on %s", (kind) => {
  let database: Database;
  let tdb: TestDatabase | null = null;
  let repos: Repositories;
  let reader: PetHistoryReader;
  let appId: number;
  let userId: number;
  let petId: number;
  let otherPetId: number;
  let vetA: number;
  let vetB: number;
  let stranger: number;
  const ids: Record<string, string> = {};

  const live = (pet: number, createdAt: number, type: "chat" | "video" = "chat"): LiveConsultation => ({
    id: randomUUID(),
    appId,
    userId,
    petId: pet,
    type,
    status: "queued",
    seq: 1,
    createdAt,
    queueDeadline: createdAt + 600_000,
    requestedVetId: null,
    offer: null,
    excludedVetIds: [],
    vetId: null,
    acceptedAt: null,
    channelSid: null,
    roomSid: null,
    profile: { user: { id: userId, first_name: "O", last_name: null, email: "o@example.com" }, pet: null },
  });

  beforeAll(async () => {
    if (kind === "postgres") tdb = await createTestDatabase("pethistory");
    database = await openDatabase(tdb ? { url: tdb.url } : { pgliteDir: "memory://" });
    repos = createRepositories(database);
    reader = new PetHistoryReader(database.db);
    appId = (await repos.apps.create({ name: "hist", secret: "secret-0123456789abcdef" })).id;
    const { user, pet } = await repos.users.register(
      appId,
      { email: "hist@example.com", firstName: "H", lastName: "O", role: "users", emergencyFund: 0 },
      new Date(T0),
      { name: "Rex", species: "dog" },
    );
    userId = user.id;
    petId = pet!.id;
    otherPetId = (await repos.pets.create(appId, userId, { name: "Tom", species: "cat" }, new Date(T0))).id;
    const vet = (label: string, first: string) =>
      repos.vets.create({ email: `${label}@example.com`, password: "password-123", firstName: first, lastName: "Vet" });
    vetA = (await vet("hist-a", "Ana")).id;
    vetB = (await vet("hist-b", "Ben")).id;
    stranger = (await vet("hist-c", "Cy")).id;
    const ledger = repos.ledger;
    // Oldest: ended with A, feedback with an outcome.
    const a = live(petId, T0, "video");
    await ledger.create(a, "socket");
    await ledger.transition(a.id, "active", T0 + 60_000, { vetId: vetA });
    await ledger.transition(a.id, "ended", T0 + 60_000 + 754_400, { endedBy: "vet" });
    await ledger.saveFeedback(a.id, vetA, "Rest", "Cough", T0 + 900_000, "follow_up");
    // Handed over from A to B, ended by B without feedback: B held it last.
    const b = live(petId, T0 + 86_400_000);
    await ledger.create(b, "socket");
    await ledger.transition(b.id, "active", T0 + 86_460_000, { vetId: vetA });
    await ledger.transition(b.id, "queued", T0 + 86_500_000, {}, { reason: "vet_left" });
    await ledger.transition(b.id, "active", T0 + 86_560_000, { vetId: vetB });
    await ledger.transition(b.id, "ended", T0 + 87_000_000, { endedBy: "user" });
    // Not consultations of the history: cancelled and expired before any vet, and one still active with B.
    const cancelled = live(petId, T0 + 2 * 86_400_000);
    await ledger.create(cancelled, "socket");
    await ledger.transition(cancelled.id, "cancelled", T0 + 2 * 86_400_000 + 5_000, { endedBy: "user" });
    const expired = live(petId, T0 + 3 * 86_400_000);
    await ledger.create(expired, "rest");
    await ledger.transition(expired.id, "expired", T0 + 3 * 86_400_000 + 600_000);
    const open = live(petId, T0 + 4 * 86_400_000);
    await ledger.create(open, "socket");
    await ledger.transition(open.id, "active", T0 + 4 * 86_400_000 + 10_000, { vetId: vetB });
    // Another pet of the same owner, ended with the stranger: not this pet's history.
    const other = live(otherPetId, T0 + 5 * 86_400_000);
    await ledger.create(other, "socket");
    await ledger.transition(other.id, "active", T0 + 5 * 86_400_000 + 10_000, { vetId: stranger });
    await ledger.transition(other.id, "ended", T0 + 5 * 86_400_000 + 20_000, { endedBy: "vet" });
    Object.assign(ids, { a: a.id, b: b.id, open: open.id, other: other.id });
  });
  afterAll(async () => {
    await database.close();
    await tdb?.drop();
  });

  it("lists the pet's ended consultations with a vet, newest first, with the last vet, duration and feedback", async () => {
    const { rows, total } = await reader.page(petId, 1, 20);
    expect(total).toBe(2);
    expect(rows.map((r) => r.consultationId)).toEqual([ids.b, ids.a]);
    expect(rows[0]).toMatchObject({
      type: "chat",
      vetId: vetB,
      vetFirstName: "Ben",
      outcome: null,
      recommendation: null,
      reason: null,
    });
    expect(rows[1]).toMatchObject({
      type: "video",
      vetId: vetA,
      vetFirstName: "Ana",
      startedAt: new Date(T0 + 60_000),
      endedAt: new Date(T0 + 60_000 + 754_400),
      outcome: "follow_up",
      recommendation: "Rest",
      reason: "Cough",
    });
    const p2 = await reader.page(petId, 2, 1);
    expect(p2).toMatchObject({ total: 2, rows: [expect.objectContaining({ consultationId: ids.a })] });
    expect((await reader.page(otherPetId, 1, 20)).rows.map((r) => r.consultationId)).toEqual([ids.other]);
    expect(await reader.page(2_000_000_000, 1, 20)).toEqual({ rows: [], total: 0 });
  });

  it("history_count of a request counts the same consultations", async () => {
    const directory = createDirectory(repos, (id) => `app-1_vet-${String(id)}`, new ManualClock());
    expect(await directory.requestProfile(appId, userId, petId)).toMatchObject({ historyCount: 2 });
    expect(await directory.requestProfile(appId, userId, otherPetId)).toMatchObject({ historyCount: 1 });
    expect(await repos.pets.findWithOwner(appId, userId, 2_000_000_000)).toMatchObject({ pet: null, historyCount: 0 });
  });

  it("who held a consultation about the pet: A and B (the open one counts), not the stranger of another pet", async () => {
    expect(await reader.vetHeldPet(vetA, petId)).toBe(true);
    expect(await reader.vetHeldPet(vetB, petId)).toBe(true);
    expect(await reader.vetHeldPet(stranger, petId)).toBe(false);
    expect(await reader.vetHeldPet(stranger, otherPetId)).toBe(true);
    expect(await reader.vetHeldPet(vetA, otherPetId)).toBe(false);
  });
});
