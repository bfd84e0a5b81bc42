/** The engine's Directory over the repositories: vet skills (cached, fresh, forgotten) and the owner's priority. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openDatabase, type Database } from "../../src/db/database.js";
import { ManualClock } from "../../src/lib/clock.js";
import { createDirectory, type CachingDirectory } from "../../src/repositories/directory.js";
import { createRepositories, type Repositories } from "../../src/repositories/index.js";
import { createTestDatabase, type TestDatabase } from "../support/services.js";

describe.each(["postgres", "pglite"] as const)("directory on %s", (kind) => {
  let database: Database;
  let tdb: TestDatabase | null = null;
  let repos: Repositories;
  let directory: CachingDirectory;
  const clock = new ManualClock();
  const now = new Date(clock.now());

  beforeAll(async () => {
    if (kind === "postgres") tdb = await createTestDatabase("directory");
    database = await openDatabase(tdb ? { url: tdb.url } : { pgliteDir: "memory://" });
    repos = createRepositories(database);
    directory = createDirectory(repos, (id) => `app-1_vet-${String(id)}`, clock);
  });
  afterAll(async () => {
    await database.close();
    await tdb?.drop();
  });

  it("vet(): the stored skills; cached 30 s, unless fresh or forgotten", async () => {
    const vet = await repos.vets.create({
      email: "dir@example.com",
      password: "pw-12345678",
      firstName: "D",
      lastName: "V",
      species: ["dog"],
      languages: ["en", "de"],
      maxChats: 2,
    });
    expect((await directory.vet(vet.id))?.skills).toEqual({
      species: ["dog"],
      languages: ["en", "de"],
      maxChats: 2,
      licenses: [],
      version: 0,
    });
    await repos.vets.update(vet.id, { species: ["cat"] });
    // The cache keeps cards off the match path...
    expect((await directory.vet(vet.id))?.skills.species).toEqual(["dog"]);
    // ...a connecting vet reads fresh skills (and refreshes the cache)...
    expect((await directory.vet(vet.id, { fresh: true }))?.skills.species).toEqual(["cat"]);
    expect((await directory.vet(vet.id))?.skills.species).toEqual(["cat"]);
    // ...and PATCH on this node drops the entry.
    await repos.vets.update(vet.id, { maxChats: null });
    directory.forgetVet(vet.id);
    expect((await directory.vet(vet.id))?.skills).toEqual({
      species: ["cat"],
      languages: ["en", "de"],
      maxChats: null,
      licenses: [],
      version: 2,
    });
    await repos.vets.update(vet.id, { languages: ["fr"] });
    clock.advance(30_000);
    expect((await directory.vet(vet.id))?.skills.languages).toEqual(["fr"]);
    expect(await directory.vet(999_999)).toBeNull();
  });

  it("requestProfile(): protectedOwner only for a subscribed protect_users owner", async () => {
    const app = await repos.apps.create({ name: `dir-${kind}`, secret: "s".repeat(16) });
    const register = async (email: string, role: "users" | "protect_users") =>
      (await repos.users.register(
        app.id,
        { email, firstName: "O", role, emergencyFund: role === "protect_users" ? 100 : 0 },
        now,
        { name: "Rex", species: "dog" },
      )) as {
        user: { id: number };
        pet: { id: number };
      };
    const plain = await register("plain@example.com", "users");
    const prot = await register("prot@example.com", "protect_users");
    const profile = (r: { user: { id: number }; pet: { id: number } }) =>
      directory.requestProfile(app.id, r.user.id, r.pet.id);

    expect(await profile(plain)).toMatchObject({ protectedOwner: false });
    expect(await profile(prot)).toMatchObject({ protectedOwner: true, user: { id: prot.user.id } });
    await repos.users.applyAction(app.id, prot.user.id, { status: "cancelled" }, now);
    expect(await profile(prot)).toMatchObject({ protectedOwner: false });
    await repos.users.applyAction(app.id, prot.user.id, { status: "subscribed" }, now);
    expect(await profile(prot)).toMatchObject({ protectedOwner: true });
  });
});
