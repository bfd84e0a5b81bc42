import { afterAll, describe, expect, it } from "vitest";
import { sql } from "drizzle-orm";
import { openDatabase } from "../../src/db/database.js";
import { createTestDatabase } from "../support/services.js";

const cleanup: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const c of cleanup.reverse()) await c();
});

/** A fresh PostgreSQL database and an in-memory PGlite, both migrated; closed after the file. */
async function bothDrivers(label: string) {
  const tdb = await createTestDatabase(label);
  cleanup.push(() => tdb.drop());
  const pgDb = await openDatabase({ url: tdb.url });
  cleanup.push(() => pgDb.close());
  const lite = await openDatabase({ pgliteDir: "memory://" });
  cleanup.push(() => lite.close());
  return [pgDb, lite] as const;
}

describe("database bootstrap", () => {
  it("migrates PostgreSQL and PGlite to the same tables", async () => {
    const [pgDb, lite] = await bothDrivers("smoke");
    const q = sql`select table_name from information_schema.tables where table_schema = 'public' order by 1`;
    const a = await pgDb.db.execute(q);
    const b = await lite.db.execute(q);
    const names = (r: unknown) => (r as { rows: Array<{ table_name: string }> }).rows.map((x) => x.table_name);
    expect(names(a)).toEqual(names(b));
    expect(names(a)).toContain("consultations");
    await pgDb.ping();
    await lite.ping();
  });
});

/** The rows of a raw `execute` (both drivers answer `{rows}`). */
const rowsOf = <T>(result: unknown): T[] => (result as { rows: T[] }).rows;

describe("migration 0003 (routing skills)", () => {
  it("adds the vet skill and consultation routing columns with their defaults on both drivers", async () => {
    const [pgDb, lite] = await bothDrivers("skills");
    for (const d of [pgDb, lite]) {
      await d.db.execute(
        sql`insert into vets (email, password_hash, first_name, last_name) values ('m@example.com', 'x', 'M', 'V')`,
      );
      const vet = rowsOf<{ species: string[]; languages: string[]; max_chats: number | null }>(
        await d.db.execute(sql`select species, languages, max_chats from vets where email = 'm@example.com'`),
      );
      expect(vet[0], d.kind).toEqual({ species: [], languages: ["en"], max_chats: null });
      const cols = rowsOf<{ column_name: string; is_nullable: string }>(
        await d.db.execute(
          sql`select column_name, is_nullable from information_schema.columns where table_name = 'consultations' and column_name in ('language', 'emergency', 'species', 'priority') order by 1`,
        ),
      );
      expect(cols, d.kind).toEqual([
        { column_name: "emergency", is_nullable: "NO" },
        { column_name: "language", is_nullable: "YES" },
        { column_name: "priority", is_nullable: "NO" },
        { column_name: "species", is_nullable: "YES" },
      ]);
    }
  });
});

describe("migration 0004 (skills version)", () => {
  it("adds vets.skills_version, not null, 0 for every vet, on both drivers", async () => {
    const [pgDb, lite] = await bothDrivers("skillsver");
    for (const d of [pgDb, lite]) {
      await d.db.execute(
        sql`insert into vets (email, password_hash, first_name, last_name) values ('v@example.com', 'x', 'V', 'S')`,
      );
      const vet = rowsOf<{ skills_version: number }>(
        await d.db.execute(sql`select skills_version from vets where email = 'v@example.com'`),
      );
      expect(vet[0], d.kind).toEqual({ skills_version: 0 });
      const cols = rowsOf<{ data_type: string; is_nullable: string }>(
        await d.db.execute(
          sql`select data_type, is_nullable from information_schema.columns where table_name = 'vets' and column_name = 'skills_version'`,
        ),
      );
      expect(cols, d.kind).toEqual([{ data_type: "integer", is_nullable: "NO" }]);
    }
  });
});

/** The constraint a failed statement broke (drizzle wraps the driver's error as its cause). */
async function brokenConstraint(statement: Promise<unknown>): Promise<string> {
  try {
    await statement;
  } catch (err) {
    const cause = (err as { cause?: { constraint?: string; message?: string } }).cause;
    return cause?.constraint ?? cause?.message ?? String(err);
  }
  return "nothing broken";
}

describe("migration 0005 (consultation keys)", () => {
  it("keys a consultation to its owner within the app, and keeps SIDs unique only once set, on both drivers", async () => {
    const [pgDb, lite] = await bothDrivers("consultkeys");
    for (const d of [pgDb, lite]) {
      const apps = rowsOf<{ id: number }>(
        await d.db.execute(sql`insert into apps (name, secret_hash) values ('a1', 'x'), ('a2', 'x') returning id`),
      );
      const [a1, a2] = apps.map((a) => a.id);
      const users = rowsOf<{ id: number }>(
        await d.db.execute(
          sql`insert into users (app_id, email, first_name, role) values (${a1}, 'o@example.com', 'O', 'users') returning id`,
        ),
      );
      const u = users[0].id;
      const insert = (id: string, appId: number, channel: string | null) =>
        d.db.execute(
          sql`insert into consultations (id, app_id, user_id, type, source, status, channel_sid) values (${id}::uuid, ${appId}, ${u}, 'chat', 'socket', 'queued', ${channel})`,
        );
      // Requests carry no SIDs yet: many may coexist.
      await insert("00000000-0000-4000-8000-000000000001", a1, null);
      await insert("00000000-0000-4000-8000-000000000002", a1, null);
      await insert("00000000-0000-4000-8000-000000000003", a1, "CH1");
      // The owner belongs to a1: a consultation of theirs under a2 breaks the key.
      expect(await brokenConstraint(insert("00000000-0000-4000-8000-000000000004", a2, null)), d.kind).toBe(
        "consultations_app_user_fk",
      );
      // A set SID stays unique.
      expect(await brokenConstraint(insert("00000000-0000-4000-8000-000000000005", a1, "CH1")), d.kind).toBe(
        "consultations_channel",
      );
      // The owner cannot be removed while consultations point at them.
      expect(await brokenConstraint(d.db.execute(sql`delete from users where id = ${u}`)), d.kind).toBe(
        "consultations_app_user_fk",
      );
    }
  });
});
