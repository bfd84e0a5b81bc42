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
    const names = (r: unknown) => ((r as { rows: Array<{ table_name: string }> }).rows).map((x) => x.table_name);
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
      await d.db.execute(sql`insert into vets (email, password_hash, first_name, last_name) values ('m@example.com', 'x', 'M', 'V')`);
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
      await d.db.execute(sql`insert into vets (email, password_hash, first_name, last_name) values ('v@example.com', 'x', 'V', 'S')`);
      const vet = rowsOf<{ skills_version: number }>(await d.db.execute(sql`select skills_version from vets where email = 'v@example.com'`));
      expect(vet[0], d.kind).toEqual({ skills_version: 0 });
      const cols = rowsOf<{ data_type: string; is_nullable: string }>(
        await d.db.execute(sql`select data_type, is_nullable from information_schema.columns where table_name = 'vets' and column_name = 'skills_version'`),
      );
      expect(cols, d.kind).toEqual([{ data_type: "integer", is_nullable: "NO" }]);
    }
  });
});
