/** The vets repository on PostgreSQL and on PGlite. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openDatabase, type Database } from "../../src/db/database.js";
import { VetRepository, type VetRecord } from "../../src/repositories/vets.js";
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
    await expect(vets.create({ email: "DR.WHO@example.com", password: "x-12345678", firstName: "a", lastName: "b" })).rejects.toMatchObject({
      status: 409,
    });
    expect((await vets.verifyCredentials("DR.who@example.com", "pw-12345678"))?.id).toBe(vet.id);
    expect(await vets.verifyCredentials("dr.who@example.com", "wrong")).toBeNull();
    expect(await vets.verifyCredentials("nobody@example.com", "pw-12345678")).toBeNull();
    expect((await vets.findByEmail("Dr.Who@example.COM"))?.id).toBe(vet.id);
    expect(await vets.findByIds([vet.id, 999_999])).toEqual([vet]);
  });
});
