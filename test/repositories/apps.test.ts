/** The apps repository on PostgreSQL and on PGlite. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openDatabase, type Database } from "../../src/db/database.js";
import { AppRepository, type AppRecord } from "../../src/repositories/apps.js";
import { createTestDatabase, type TestDatabase } from "../support/services.js";

describe.each(["postgres", "pglite"] as const)("apps on %s", (kind) => {
  let database: Database;
  let tdb: TestDatabase | null = null;
  let apps: AppRepository;
  let appA: AppRecord;
  let appB: AppRecord;

  beforeAll(async () => {
    if (kind === "postgres") tdb = await createTestDatabase("apps");
    database = await openDatabase(tdb ? { url: tdb.url } : { pgliteDir: "memory://" });
    apps = new AppRepository(database.db);
    appA = await apps.create({ name: "app-a", secret: "secret-a-0123456789" });
    appB = await apps.create({ name: "app-b", secret: "secret-b-0123456789" });
  });
  afterAll(async () => {
    await database.close();
    await tdb?.drop();
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
});
