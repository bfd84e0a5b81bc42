/** UserRepository and PetRepository on PostgreSQL and on PGlite: scoping, soft deletes, races, JSON shapes. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openDatabase, type Database } from "../../../src/db/database.js";
import { AppError } from "../../../src/lib/app-error.js";
import { AppRepository, type AppRecord } from "../../../src/repositories/apps.js";
import { PetRepository, toPetJson } from "../../../src/repositories/pets.js";
import {
  buildTalkToVetUserPayload,
  toDeletedUserJson,
  toReportRowJson,
  toUserJson,
} from "../../../src/http/presenters/users.js";
import { toUserSummary, UserRepository, type NewUser } from "../../../src/repositories/users.js";
import { createTestDatabase, type TestDatabase } from "../../support/services.js";

const DAY = 86_400_000;
const t0 = new Date("2025-03-01T10:00:00Z");
const later = (days: number) => new Date(t0.getTime() + days * DAY);
let n = 0;
const newUser = (over: Partial<NewUser> = {}): NewUser => ({
  email: `repo.${String(++n)}@example.com`,
  firstName: "Ann",
  lastName: "Lee",
  role: "users",
  emergencyFund: 0,
  ...over,
});

describe.each(["postgres", "pglite"] as const)("users and pets repositories on %s", (kind) => {
  let database: Database;
  let tdb: TestDatabase | null = null;
  let users: UserRepository;
  let pets: PetRepository;
  let appA: AppRecord;
  let appB: AppRecord;

  beforeAll(async () => {
    if (kind === "postgres") tdb = await createTestDatabase("repo");
    database = await openDatabase(tdb ? { url: tdb.url } : { pgliteDir: "memory://" });
    users = new UserRepository(database.db);
    pets = new PetRepository(database.db);
    const apps = new AppRepository(database.db);
    appA = await apps.create({ name: `repo-a-${kind}`, secret: "secret-a-0123456789" });
    appB = await apps.create({ name: `repo-b-${kind}`, secret: "secret-b-0123456789" });
  });
  afterAll(async () => {
    await database?.close();
    await tdb?.drop();
  });

  describe("UserRepository", () => {
    it("registers a user with a first status row and an optional pet", async () => {
      const { user, statuses, pet } = await users.register(appA.id, newUser({ email: "Mixed.Case@Example.com" }), t0, {
        name: "Rex",
        weight: "10 lbs",
      });
      expect(user).toMatchObject({
        appId: appA.id,
        email: "Mixed.Case@Example.com",
        status: "subscribed",
        packageType: "monthly",
        deletedAt: null,
      });
      expect(user.registeredAt.toISOString()).toBe(t0.toISOString());
      expect(statuses).toHaveLength(1);
      expect(statuses[0]).toMatchObject({ userId: user.id, appId: appA.id, status: "subscribed", type: "monthly" });
      expect(pet).toMatchObject({ userId: user.id, appId: appA.id, name: "Rex", weight: "10 lbs" });

      expect((await users.findById(appA.id, user.id))?.id).toBe(user.id);
      expect((await users.findActiveByEmail(appA.id, "mixed.case@example.COM"))?.id).toBe(user.id);
      expect((await users.findActiveByEmail(appA.id, "  mixed.case@example.com "))?.id).toBe(user.id);
      // Another app sees nothing.
      expect(await users.findById(appB.id, user.id)).toBeNull();
      expect(await users.findActiveByEmail(appB.id, "mixed.case@example.com")).toBeNull();
    });

    it("409 for an active email of the same app, even when racing; deleted emails can re-register", async () => {
      const u = newUser();
      const first = await users.register(appA.id, u, t0);
      await expect(users.register(appA.id, { ...u, email: u.email.toUpperCase() }, t0)).rejects.toMatchObject({
        status: 409,
      });
      await users.register(appB.id, u, t0);

      const racer = newUser();
      const results = await Promise.allSettled(Array.from({ length: 6 }, () => users.register(appA.id, racer, t0)));
      expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
      for (const r of results) if (r.status === "rejected") expect(r.reason).toBeInstanceOf(AppError);

      const deleted = await users.softDelete(appA.id, first.user.id, later(1));
      expect(deleted?.deletedAt?.toISOString()).toBe(later(1).toISOString());
      expect(await users.findById(appA.id, first.user.id)).toBeNull();
      expect(await users.findActiveByEmail(appA.id, u.email)).toBeNull();
      expect(await users.softDelete(appA.id, first.user.id, later(2))).toBeNull();
      const again = await users.register(appA.id, u, later(2));
      expect(again.user.id).not.toBe(first.user.id);
    });

    it("applyAction enforces the role rule under a lock and appends status rows", async () => {
      const { user } = await users.register(appA.id, newUser({ role: "protect_users", emergencyFund: 300 }), t0);
      await expect(users.applyAction(appA.id, user.id, { role: "users" }, later(1))).rejects.toMatchObject({
        status: 422,
      });
      expect(await users.statuses(appA.id, user.id)).toHaveLength(1);

      const cancelled = await users.applyAction(appA.id, user.id, { status: "cancelled", firstName: "Bo" }, later(2));
      expect(cancelled).toMatchObject({
        status: "cancelled",
        role: "protect_users",
        firstName: "Bo",
        emergencyFund: 300,
      });
      const downgraded = await users.applyAction(appA.id, user.id, { role: "users" }, later(3));
      expect(downgraded).toMatchObject({ role: "users", status: "cancelled", emergencyFund: 0 });
      const history = await users.statuses(appA.id, user.id);
      expect(history.map((s) => s.status)).toEqual(["subscribed", "cancelled"]);
      expect(history[1].dateTime.toISOString()).toBe(later(2).toISOString());
      expect((await users.latestStatus(appA.id, user.id))?.id).toBe(history[1].id);

      // Other apps cannot act on it.
      expect(await users.applyAction(appB.id, user.id, { status: "subscribed" }, later(4))).toBeNull();
      expect(await users.statuses(appB.id, user.id)).toEqual([]);
      expect(await users.latestStatus(appB.id, user.id)).toBeNull();
    });

    it("concurrent status changes append exactly one row per change", async () => {
      const { user } = await users.register(appA.id, newUser(), t0);
      await Promise.all(
        Array.from({ length: 5 }, () => users.applyAction(appA.id, user.id, { status: "cancelled" }, later(1))),
      );
      expect((await users.statuses(appA.id, user.id)).map((s) => s.status)).toEqual(["subscribed", "cancelled"]);
    });

    it("report filters by dates, search, status and role, newest first, paged, per app", async () => {
      const app = await new AppRepository(database.db).create({
        name: `repo-r-${kind}`,
        secret: "secret-r-0123456789",
      });
      const u1 = (await users.register(app.id, newUser({ firstName: "Zed", lastName: "Alpha", email: "zed@x.io" }), t0))
        .user;
      const u2 = (
        await users.register(
          app.id,
          newUser({ firstName: "Amy", lastName: null, email: "amy@y.io", role: "protect_users", emergencyFund: 1 }),
          later(1),
        )
      ).user;
      const u3 = (await users.register(app.id, newUser({ firstName: "Bob", email: "bob_100%@z.io" }), later(2))).user;
      await users.applyAction(app.id, u3.id, { status: "cancelled" }, later(3));
      const ids = async (q: Parameters<UserRepository["report"]>[1]) =>
        (await users.report(app.id, q)).rows.map((r) => r.id);
      expect(await ids({})).toEqual([u3.id, u2.id, u1.id]);
      expect(await ids({ registeredFrom: later(1), registeredBefore: later(2) })).toEqual([u2.id]);
      expect(await ids({ search: "zed alpha" })).toEqual([u1.id]);
      expect(await ids({ search: "ALPHA" })).toEqual([u1.id]);
      expect(await ids({ search: "amy" })).toEqual([u2.id]);
      expect(await ids({ search: "_100%" })).toEqual([u3.id]);
      expect(await ids({ search: ".io" })).toHaveLength(3);
      expect(await ids({ status: "cancelled" })).toEqual([u3.id]);
      expect(await ids({ role: "protect_users" })).toEqual([u2.id]);
      const page = await users.report(app.id, { page: 2, perPage: 2 });
      expect(page.rows.map((r) => r.id)).toEqual([u1.id]);
      expect(page.total).toBe(3);
      expect((await users.report(appB.id, { search: "zed" })).rows).toEqual([]);
    });

    it("out-of-range ids are simply not found", async () => {
      expect(await users.findById(appA.id, 2 ** 40)).toBeNull();
      expect(await users.findById(appA.id, 0)).toBeNull();
      expect(await users.softDelete(appA.id, 2 ** 40, t0)).toBeNull();
      expect(await pets.findForUser(appA.id, 1, 2 ** 40)).toBeNull();
      expect(await pets.update(appA.id, 1, 2 ** 40, { name: "x" }, t0)).toBeNull();
      expect(await pets.softDelete(appA.id, 1, -1, t0)).toBe(false);
    });
  });

  describe("PetRepository", () => {
    it("creates, updates only given fields, soft-deletes, scoped by app and user", async () => {
      const owner = (await users.register(appA.id, newUser(), t0)).user;
      const other = (await users.register(appA.id, newUser(), t0)).user;
      const pet = await pets.create(appA.id, owner.id, { name: "Milo", color: "Brown", age: "2 years" }, t0);
      expect(pet).toMatchObject({
        appId: appA.id,
        userId: owner.id,
        name: "Milo",
        color: "Brown",
        species: null,
        deletedAt: null,
      });

      const updated = await pets.update(
        appA.id,
        owner.id,
        pet.id,
        { species: "cat", color: undefined, age: null },
        later(1),
      );
      expect(updated).toMatchObject({ name: "Milo", color: "Brown", species: "cat", age: null });
      expect(updated?.updatedAt.toISOString()).toBe(later(1).toISOString());
      expect(updated?.createdAt.toISOString()).toBe(t0.toISOString());

      expect(await pets.findForUser(appA.id, other.id, pet.id)).toBeNull();
      expect(await pets.findForUser(appB.id, owner.id, pet.id)).toBeNull();
      expect(await pets.update(appB.id, owner.id, pet.id, { name: "Hacked" }, later(1))).toBeNull();
      expect(await pets.update(appA.id, other.id, pet.id, { name: "Hacked" }, later(1))).toBeNull();
      expect(await pets.softDelete(appB.id, owner.id, pet.id, later(1))).toBe(false);

      expect(await pets.softDelete(appA.id, owner.id, pet.id, later(2))).toBe(true);
      expect(await pets.softDelete(appA.id, owner.id, pet.id, later(2))).toBe(false);
      expect(await pets.findForUser(appA.id, owner.id, pet.id)).toBeNull();
      expect(await pets.update(appA.id, owner.id, pet.id, { name: "Zombie" }, later(3))).toBeNull();
    });

    it("lists live pets in id order with literal, case-insensitive search and paging", async () => {
      const owner = (await users.register(appA.id, newUser(), t0)).user;
      const names = ["Milo", "rex", "Camilo", "a_b%c"];
      for (const name of names)
        await pets.create(appA.id, owner.id, { name, breed: name === "rex" ? "Boxer" : null }, t0);
      const gone = await pets.create(appA.id, owner.id, { name: "Milo deleted" }, t0);
      await pets.softDelete(appA.id, owner.id, gone.id, t0);
      const list = async (q: Parameters<PetRepository["list"]>[2]) =>
        (await pets.list(appA.id, owner.id, q)).rows.map((p) => p.name);
      expect(await list({})).toEqual(names);
      expect(await list({ searchValue: "MILO" })).toEqual(["Milo", "Camilo"]);
      expect(await list({ searchBy: "breed", searchValue: "box" })).toEqual(["rex"]);
      expect(await list({ searchValue: "%" })).toEqual(["a_b%c"]);
      expect(await list({ searchValue: "_" })).toEqual(["a_b%c"]);
      const page = await pets.list(appA.id, owner.id, { page: 2, perPage: 3 });
      expect(page.rows.map((p) => p.name)).toEqual(["a_b%c"]);
      expect(page.total).toBe(4);
      expect((await pets.list(appB.id, owner.id)).rows).toEqual([]);
    });
  });

  describe("JSON shapes", () => {
    it("render the reference's user, pet, report and talk-to-vet objects", async () => {
      const { user, statuses, pet } = await users.register(
        appA.id,
        newUser({
          firstName: "New",
          lastName: "umbrella",
          phoneNo: "",
          devType: "android",
          role: "protect_users",
          emergencyFund: 3000,
        }),
        t0,
        { name: "TestDog" },
      );
      const petJson = toPetJson(pet!);
      expect(petJson).toMatchObject({
        id: pet!.id,
        pet_id: null,
        profile: null,
        created_at: "2025-03-01 10:00:00",
        deleted_at: null,
        veterians: null,
        medicals: null,
        insurnaces: null,
        pet_veterians: [],
        pet_medicals: [],
        pet_insurnaces: [],
      });

      const userJson = toUserJson("petcube", user, later(20), { pet, statuses });
      expect(userJson).toMatchObject({
        app: ["petcube"],
        activedays: 20,
        trial_period: 14,
        can_use_emergency_funds: true,
        phone_no: "",
        pets: petJson,
      });
      expect(userJson.user_status[0]).toMatchObject({ status: "subscribed", date_time: "2025-03-01 10:00:00" });

      expect(toReportRowJson(user, later(20))).toEqual({
        first_name: "New",
        last_name: "umbrella",
        email: user.email,
        phone_no: "",
        your_registration_date: "2025-03-01 10:00:00",
        emergency_fund: 3000,
        next_emergency_activation_date: null,
        activedays: 20,
        protect_type: "protect_users",
        package_type: "monthly",
        subscription_status: "subscribed",
      });

      const activated = await users.recordEmergencyActivation(appA.id, user.id, later(30));
      const payload = buildTalkToVetUserPayload("petcube", activated!, later(31));
      expect(Object.keys(payload.user)).toEqual([
        "id",
        "app_id",
        "email",
        "dev_type",
        "twilio_user_sid",
        "last_name",
        "first_name",
        "phone_no",
        "emergency_fund",
        "your_registration_date",
        "created_at",
        "updated_at",
        "deleted_at",
        "region",
        "next_emergency_activation_date",
        "trial_period",
        "can_use_emergency_funds",
        "app",
        "activedays",
        "emergency_lastest_protect",
      ]);
      expect(payload.user).toMatchObject({
        id: user.id,
        app: ["petcube"],
        activedays: 31,
        emergency_lastest_protect: null,
        next_emergency_activation_date: "2026-03-31 10:00:00",
      });
      expect(payload.emergency_stats).toMatchObject({
        user_type: "protect_users",
        remaining_trial_period_days: 0,
        last_emergency_activation_date: "2025-03-31 10:00:00",
        next_emergency_activation_date: "2026-03-31 10:00:00",
        can_activate_Emergency: false,
      });
      expect(
        buildTalkToVetUserPayload("petcube", activated!, later(30 + 365)).emergency_stats.can_activate_Emergency,
      ).toBe(true);

      expect(toUserSummary(user)).toEqual({ id: user.id, first_name: "New", last_name: "umbrella", email: user.email });

      const deleted = await users.softDelete(appA.id, user.id, later(40));
      const del = toDeletedUserJson("petcube", deleted!, later(40), await users.latestStatus(appA.id, user.id));
      expect(del).toMatchObject({
        deleted_at: "2025-04-10 10:00:00",
        activedays: 40,
        user_status_latest: { status: "subscribed" },
      });
    });
  });
});
