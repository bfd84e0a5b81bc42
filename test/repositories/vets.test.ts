/** The vets repository on PostgreSQL and on PGlite. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openDatabase, type Database } from "../../src/db/database.js";
import { verifySecret } from "../../src/lib/passwords.js";
import { VetRepository, vetSkillsOf, type VetRecord } from "../../src/repositories/vets.js";
import { createTestDatabase, type TestDatabase } from "../support/services.js";

describe.each(["postgres", "pglite"] as const)("vets on %s", (kind) => {
  let database: Database;
  let tdb: TestDatabase | null = null;
  let vets: VetRepository;
  let vet: VetRecord;

  beforeAll(async () => {
    if (kind === "postgres") tdb = await createTestDatabase("vets");
    database = await openDatabase(tdb ? { url: tdb.url } : { pgliteDir: "memory://" });
    vets = new VetRepository(database.db);
    vet = await vets.create({ email: "Dr.Who@Example.com", password: "pw-12345678", firstName: "Dr", lastName: "Who" });
  });
  afterAll(async () => {
    await database.close();
    await tdb?.drop();
  });

  it("vets: case-insensitive email, constant-shape login, 409 on duplicates", async () => {
    expect(vet.email).toBe("dr.who@example.com");
    await expect(
      vets.create({ email: "DR.WHO@example.com", password: "x-12345678", firstName: "a", lastName: "b" }),
    ).rejects.toMatchObject({
      status: 409,
    });
    const found = await vets.findCredentials("DR.who@example.com");
    expect(found?.vet.id).toBe(vet.id);
    expect(await verifySecret("pw-12345678", found!.passwordHash)).toBe(true);
    expect(await verifySecret("wrong", found!.passwordHash)).toBe(false);
    expect(await vets.findCredentials("nobody@example.com")).toBeNull();
    expect((await vets.findByEmail("Dr.Who@example.COM"))?.id).toBe(vet.id);
    expect(await vets.findByIds([vet.id, 999_999])).toEqual([vet]);
  });

  it("skills: defaults (every species, en, VET_MAX_CONSULTS), set at creation, changed by update", async () => {
    expect(vet).toMatchObject({ species: [], languages: ["en"], maxChats: null });
    const skilled = await vets.create({
      email: "skills@example.com",
      password: "pw-12345678",
      firstName: "S",
      lastName: "K",
      species: ["dog", "cat"],
      languages: ["en", "es"],
      maxChats: 3,
    });
    expect(skilled).toMatchObject({ species: ["dog", "cat"], languages: ["en", "es"], maxChats: 3, active: true });
    // Only the given fields change.
    const updated = await vets.update(skilled.id, { languages: ["fr"], maxChats: null });
    expect(updated).toMatchObject({ species: ["dog", "cat"], languages: ["fr"], maxChats: null, active: true });
    expect(await vets.findById(skilled.id)).toEqual(updated);
    expect((await vets.findCredentials("skills@example.com"))?.vet.languages).toEqual(["fr"]);
    expect(await vets.update(skilled.id, { species: [] })).toMatchObject({ species: [], languages: ["fr"] });
    expect(await vets.update(999_999, { species: ["dog"] })).toBeNull();
  });

  it("skills version: 0 at creation; every update of species, languages, max_chats or licenses adds one in the same write; active alone does not", async () => {
    const v = await vets.create({
      email: "version@example.com",
      password: "pw-12345678",
      firstName: "V",
      lastName: "N",
      species: ["dog"],
    });
    expect(v.skillsVersion).toBe(0);
    expect(vetSkillsOf(v)).toEqual({ species: ["dog"], languages: ["en"], maxChats: null, licenses: [], version: 0 });
    expect((await vets.update(v.id, { species: ["cat"] }))?.skillsVersion).toBe(1);
    expect((await vets.update(v.id, { languages: ["fr"] }))?.skillsVersion).toBe(2);
    expect((await vets.update(v.id, { maxChats: 2 }))?.skillsVersion).toBe(3);
    // Same values again still count: a write the caller made, with its own version.
    expect((await vets.update(v.id, { maxChats: 2, species: ["cat"] }))?.skillsVersion).toBe(4);
    expect((await vets.update(v.id, { active: false }))?.skillsVersion).toBe(4);
    expect((await vets.update(v.id, { active: true, maxChats: null }))?.skillsVersion).toBe(5);
    expect((await vets.update(v.id, { licenses: ["US-CA", "GB"] }))?.skillsVersion).toBe(6);
    expect(vetSkillsOf((await vets.findById(v.id))!)).toEqual({
      species: ["cat"],
      languages: ["fr"],
      maxChats: null,
      licenses: ["US-CA", "GB"],
      version: 6,
    });
    // Concurrent writers are ordered by the row lock: each gets a distinct version.
    const versions = await Promise.all([1, 2, 3, 4, 5].map((n) => vets.update(v.id, { maxChats: n })));
    expect(versions.map((r) => r!.skillsVersion).sort((a, b) => a - b)).toEqual([7, 8, 9, 10, 11]);
    const last = versions.find((r) => r!.skillsVersion === 11)!;
    expect((await vets.findById(v.id))?.maxChats).toBe(last.maxChats);
  });
});
