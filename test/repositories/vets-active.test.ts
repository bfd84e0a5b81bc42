/** The `vets.active` flag (migration 0001) on PostgreSQL and PGlite. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openDatabase, type Database } from "../../src/db/database.js";
import { VetRepository } from "../../src/repositories/vets.js";
import { createTestDatabase, type TestDatabase } from "../support/services.js";

describe.each(["postgres", "pglite"] as const)("vet active flag on %s", (kind) => {
  let database: Database;
  let tdb: TestDatabase | null = null;
  let vets: VetRepository;
  beforeAll(async () => {
    if (kind === "postgres") tdb = await createTestDatabase("vetactive");
    database = await openDatabase(tdb ? { url: tdb.url } : { pgliteDir: "memory://" });
    vets = new VetRepository(database.db);
  });
  afterAll(async () => {
    await database.close();
    await tdb?.drop();
  });

  it("new vets are active; setActive toggles it and returns the vet; unknown id → null", async () => {
    const vet = await vets.create({ email: "a@example.com", password: "pw-12345678", firstName: "A", lastName: "B" });
    expect(vet.active).toBe(true);
    expect(await vets.setActive(vet.id, false)).toEqual({ ...vet, active: false });
    expect((await vets.findById(vet.id))?.active).toBe(false);
    // Credentials still verify: the transport decides what a disabled vet gets.
    expect(await vets.verifyCredentials("a@example.com", "pw-12345678")).toMatchObject({ id: vet.id, active: false });
    expect((await vets.setActive(vet.id, true))?.active).toBe(true);
    expect(await vets.setActive(999_999, false)).toBeNull();
  });
});
