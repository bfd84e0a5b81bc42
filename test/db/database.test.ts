import { afterAll, describe, expect, it } from "vitest";
import { sql } from "drizzle-orm";
import { openDatabase } from "../../src/db/database.js";
import { createTestDatabase } from "../support/services.js";

describe("database bootstrap", () => {
  const cleanup: Array<() => Promise<void>> = [];
  afterAll(async () => {
    for (const c of cleanup.reverse()) await c();
  });

  it("migrates PostgreSQL and PGlite to the same tables", async () => {
    const tdb = await createTestDatabase("smoke");
    cleanup.push(() => tdb.drop());
    const pgDb = await openDatabase({ url: tdb.url });
    cleanup.push(() => pgDb.close());
    const lite = await openDatabase({ pgliteDir: "memory://" });
    cleanup.push(() => lite.close());
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
