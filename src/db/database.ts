import { mkdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import path from "node:path";
import pg from "pg";
import { PGlite } from "@electric-sql/pglite";
import { drizzle as drizzlePg } from "drizzle-orm/node-postgres";
import { migrate as migratePg } from "drizzle-orm/node-postgres/migrator";
import { drizzle as drizzlePglite } from "drizzle-orm/pglite";
import { migrate as migratePglite } from "drizzle-orm/pglite/migrator";
import { sql } from "drizzle-orm";
import type { PgDatabase, PgQueryResultHKT } from "drizzle-orm/pg-core";
import * as schema from "./schema.js";

/** Drizzle handle shared by both drivers; repositories only see this type. */
export type Db = PgDatabase<PgQueryResultHKT, typeof schema>;

/** An open, migrated database. */
export interface Database {
  readonly db: Db;
  /**
   * Runs a high-volume write that nothing waits on (the ledger's writes behind). On PostgreSQL: its own pool
   * with `synchronous_commit = off`, so a commit does not wait for the WAL flush (a server
   * crash may lose the last fraction of a second of such writes, never consistency), and
   * named prepared statements, so PostgreSQL parses and plans each one once per
   * connection. On PGlite: a plain parameterised query.
   */
  readonly writeBehind: StatementRunner;
  /** Runs a durable write on `db`'s pool, as a named prepared statement on PostgreSQL. */
  readonly write: StatementRunner;
  /** Runs a fixed statement on `db`'s pool and answers its rows, prepared on PostgreSQL. */
  readonly query: StatementQuery;
  readonly kind: "postgres" | "pglite";
  /** Resolves when a trivial query succeeds; used by `/readyz`. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** A fixed SQL statement with `$n` parameters; `name` identifies it when prepared. */
export interface Statement {
  readonly name: string;
  readonly text: string;
  /**
   * False: planned afresh each time rather than prepared. For a statement whose best plan
   * depends on its values (a generic plan of a prepared statement can be far worse).
   */
  readonly prepare?: boolean;
}

/** Executes one fixed statement with its parameters, for its effect. */
export type StatementRunner = (statement: Statement, values: unknown[]) => Promise<void>;

/** Executes one fixed statement with its parameters and answers its rows (as the driver parsed them). */
export type StatementQuery = <T>(statement: Statement, values: unknown[]) => Promise<T[]>;

/** `src/db` and `dist/db` are both two levels below the package root. */
const MIGRATIONS_DIR = fileURLToPath(new URL("../../drizzle", import.meta.url));

// Serialises migrations when several nodes start together against one PostgreSQL.
const MIGRATION_LOCK_KEY = 7_406_221;

export interface DatabaseOptions {
  /** PostgreSQL URL; unset → embedded PGlite. */
  url?: string | undefined;
  /** PGlite data directory (`memory://` keeps it in memory). */
  pgliteDir?: string;
  /** Pool size for PostgreSQL. */
  poolSize?: number;
  /**
   * `DATABASE_TIMEOUT_MS` (default 5000; 0 = no deadline): on PostgreSQL the connection
   * timeout, the server-side `statement_timeout` and a client-side read deadline, so a
   * stalled or unreachable server gives errors instead of hung requests. PGlite runs in
   * this process and has no network to stall on: no deadline applies there.
   */
  timeoutMs?: number;
}

/** Default of {@link DatabaseOptions.timeoutMs}. */
export const DEFAULT_DATABASE_TIMEOUT_MS = 5_000;

/**
 * Pool options carrying the deadlines. `statement_timeout` lets the server cancel a slow
 * statement; `query_timeout` fails the call even when the server never answers (a cut or
 * blackholed connection), with a little slack so the server's own error wins when it can.
 */
function deadlineOptions(timeoutMs: number): pg.PoolConfig {
  if (timeoutMs <= 0) return {};
  return { connectionTimeoutMillis: timeoutMs, statement_timeout: timeoutMs, query_timeout: timeoutMs + 500 };
}

/**
 * Applies the migrations while holding a session-level advisory lock, on a dedicated
 * connection without the statement deadline (waiting for another node's migration, or a
 * long migration, is not a stall). Nodes starting together queue on the lock; the later
 * ones find every migration recorded in `drizzle.__drizzle_migrations` and apply none.
 * Closing the connection releases the lock even when the unlock cannot be sent.
 */
async function migrateUnderLock(url: string, timeoutMs: number): Promise<void> {
  const client = new pg.Client({
    connectionString: url,
    ...(timeoutMs > 0 ? { connectionTimeoutMillis: timeoutMs } : {}),
  });
  client.on("error", () => undefined);
  await client.connect();
  try {
    await client.query("select pg_advisory_lock($1)", [MIGRATION_LOCK_KEY]);
    await migratePg(drizzlePg(client, { schema }), { migrationsFolder: MIGRATIONS_DIR });
    await client.query("select pg_advisory_unlock($1)", [MIGRATION_LOCK_KEY]);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Opens PostgreSQL (when `url` is set) or PGlite, and applies the SQL migrations. */
export async function openDatabase(opts: DatabaseOptions): Promise<Database> {
  if (opts.url) {
    const timeoutMs = opts.timeoutMs ?? DEFAULT_DATABASE_TIMEOUT_MS;
    const deadlines = deadlineOptions(timeoutMs);
    // Idle connections are kept a minute: reopening one under a burst costs a backend start.
    const pool = new pg.Pool({
      connectionString: opts.url,
      max: opts.poolSize ?? 10,
      idleTimeoutMillis: 60_000,
      ...deadlines,
    });
    const behindPool = new pg.Pool({
      connectionString: opts.url,
      ...deadlines,
      max: Math.max(2, Math.ceil((opts.poolSize ?? 10) / 2)),
      idleTimeoutMillis: 60_000,
      options: "-c synchronous_commit=off",
    });
    // An idle client's error (server restart) must not crash the process; the pool replaces it.
    pool.on("error", () => undefined);
    behindPool.on("error", () => undefined);
    // Nor a checked-out client's: pg-pool listens only `once` during a query, and a second
    // error from a connection cut mid-query (ECONNRESET after the timeout) had no listener and
    // crashed the node (bench/chaos.ts). The query's caller still gets the first error.
    for (const p of [pool, behindPool]) p.on("connect", (client) => client.on("error", () => undefined));
    const db = drizzlePg(pool, { schema }) as unknown as Db;
    const prepared =
      (target: pg.Pool): StatementRunner =>
      async ({ name, text }, values) => {
        await target.query({ name, text, values });
      };
    const writeBehind = prepared(behindPool);
    const write = prepared(pool);
    const query: StatementQuery = async <T>({ name, text, prepare }: Statement, values: unknown[]) =>
      (await pool.query(prepare === false ? { text, values } : { name, text, values })).rows as T[];
    try {
      await migrateUnderLock(opts.url, timeoutMs);
    } catch (err) {
      await Promise.all([pool.end(), behindPool.end()]).catch(() => undefined);
      throw err;
    }
    return {
      db,
      writeBehind,
      write,
      query,
      kind: "postgres",
      ping: async () => {
        await pool.query("select 1");
      },
      close: async () => {
        await Promise.all([pool.end(), behindPool.end()]);
      },
    };
  }
  const dir = opts.pgliteDir ?? "memory://";
  if (!dir.startsWith("memory://")) mkdirSync(path.resolve(dir), { recursive: true });
  const client = await PGlite.create(dir.startsWith("memory://") ? dir : path.resolve(dir));
  const db = drizzlePglite(client, { schema });
  await migratePglite(db, { migrationsFolder: MIGRATIONS_DIR });
  return {
    db: db as unknown as Db,
    writeBehind: async ({ text }, values) => {
      await client.query(text, values);
    },
    write: async ({ text }, values) => {
      await client.query(text, values);
    },
    query: async <T>({ text }: Statement, values: unknown[]) => (await client.query<T>(text, values)).rows,
    kind: "pglite",
    ping: async () => {
      await db.execute(sql`select 1`);
    },
    close: () => client.close(),
  };
}

/** The rows of a raw `db.execute()` result: both drivers answer `{rows}`. */
export function rowsOf<T>(result: unknown): T[] {
  const rows = (result as { rows?: unknown } | null)?.rows;
  if (!Array.isArray(rows)) throw new Error("a raw query answered without rows");
  return rows as T[];
}
