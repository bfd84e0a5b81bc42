/** The `vets.active` flag (migration 0001) on PostgreSQL and PGlite. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openDatabase, type Database } from "../../../src/db/database.js";
import { verifySecret } from "../../../src/lib/passwords.js";
import { VetRepository } from "../../../src/repositories/vets.js";
import { createTestDatabase, type TestDatabase } from "../../support/services.js";

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

  it("new vets are active; setActive toggles it, bumps the session version and returns the vet; unknown id → null", async () => {
    const vet = await vets.create({ email: "a@example.com", password: "pw-12345678", firstName: "A", lastName: "B" });
    expect(vet.active).toBe(true);
    expect(vet.sessionVersion).toBe(0);
    expect(await vets.setActive(vet.id, false)).toEqual({ ...vet, active: false, sessionVersion: 1 });
    expect((await vets.findById(vet.id))?.active).toBe(false);
    // Credentials are still found: the transport decides what a disabled vet gets.
    expect((await vets.findCredentials("a@example.com"))?.vet).toMatchObject({ id: vet.id, active: false });
    // Enabling revokes too: tokens issued before the disable never come back to life.
    expect(await vets.setActive(vet.id, true)).toMatchObject({ active: true, sessionVersion: 2 });
    expect(await vets.setActive(999_999, false)).toBeNull();
  });

  it("a new password replaces the hash and bumps the session version; skills alone do not", async () => {
    const vet = await vets.create({ email: "pw@example.com", password: "pw-12345678", firstName: "A", lastName: "B" });
    expect(await vets.update(vet.id, { species: ["dog"] })).toMatchObject({ sessionVersion: 0 });
    const before = (await vets.findCredentials("pw@example.com"))!.passwordHash;
    expect(await vets.update(vet.id, { password: "new-password-1" })).toMatchObject({ sessionVersion: 1 });
    const after = (await vets.findCredentials("pw@example.com"))!.passwordHash;
    expect(after).not.toBe(before);
    expect(await verifySecret("new-password-1", after)).toBe(true);
    expect(after).not.toContain("new-password-1");
  });
});
