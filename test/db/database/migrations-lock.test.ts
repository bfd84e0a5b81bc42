/** PROTOCOL §6: nodes starting together on one fresh PostgreSQL database migrate once. */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../../src/config.js";
import { createLogger } from "../../../src/lib/logger.js";
import { buildGateway, type Gateway } from "../../../src/server.js";
import { createTestDatabase, type TestDatabase } from "../../support/services.js";

const journal = JSON.parse(readFileSync(new URL("../../../drizzle/meta/_journal.json", import.meta.url), "utf8")) as {
  entries: Array<{ tag: string }>;
};

describe("migrations under an advisory lock", () => {
  let tdb: TestDatabase;
  const dataDir = mkdtempSync(path.join(os.tmpdir(), "vcg-miglock-"));
  const gateways: Gateway[] = [];
  beforeAll(async () => {
    tdb = await createTestDatabase("miglock");
  });
  afterAll(async () => {
    for (const g of gateways) await g.close();
    await tdb?.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("three gateways started at once on a fresh database all come up; each migration is recorded once", async () => {
    const config = loadConfig({
      NODE_ENV: "test",
      PORT: "0",
      HOST: "127.0.0.1",
      LOG_LEVEL: "silent",
      DATABASE_URL: tdb.url,
      DATA_DIR: dataDir,
    });
    const logger = createLogger("silent");
    // The real start path: each gateway opens (and migrates) its own database connection.
    const started = await Promise.allSettled([0, 1, 2].map(() => buildGateway(config, { logger })));
    for (const s of started) if (s.status === "fulfilled") gateways.push(s.value);
    expect(started.map((s) => s.status)).toEqual(["fulfilled", "fulfilled", "fulfilled"]);
    for (const g of gateways) await g.listen();

    const c = new pg.Client({ connectionString: tdb.url });
    await c.connect();
    try {
      const { rows } = await c.query<{ hash: string; n: string }>(
        "select hash, count(*)::text as n from drizzle.__drizzle_migrations group by hash",
      );
      expect(rows).toHaveLength(journal.entries.length);
      expect(rows.every((r) => r.n === "1")).toBe(true);
      // The schema is usable from every node.
      for (const g of gateways) expect(await g.ctx.repos.apps.findByName("nope")).toBeNull();
      // No node still holds the lock (on this database: other test files migrate their own at the same time).
      const locks = await c.query(
        "select 1 from pg_locks where locktype = 'advisory' and granted and database = (select oid from pg_database where datname = current_database())",
      );
      expect(locks.rowCount).toBe(0);
    } finally {
      await c.end();
    }
  });
});
