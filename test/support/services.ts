/**
 * Per-test-file isolation on the real services: a fresh PostgreSQL database and a unique
 * Redis key prefix, both removed afterwards, so files run in parallel and leave nothing.
 */
import { randomBytes } from "node:crypto";
import pg from "pg";
import { createClient } from "redis";

export const PG_ADMIN_URL = process.env.TEST_PG_URL ?? "postgres://postgres@127.0.0.1:5432/test";
export const REDIS_URL = process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379";

const suffix = () => `${Date.now().toString(36)}_${randomBytes(4).toString("hex")}`;

export interface TestDatabase {
  name: string;
  url: string;
  drop(): Promise<void>;
}

/**
 * Creates an empty database `{prefix}_{label}_{suffix}`; `drop()` removes it (closing stray
 * connections first). The benchmarks use it too, with the prefix `bench`.
 */
export async function createTestDatabase(label = "t", prefix = "gw"): Promise<TestDatabase> {
  const name = `${prefix}_${label.replace(/[^a-z0-9]/gi, "").toLowerCase()}_${suffix()}`;
  const admin = new pg.Client({ connectionString: PG_ADMIN_URL });
  await admin.connect();
  try {
    await admin.query(`create database "${name}"`);
  } finally {
    await admin.end();
  }
  const url = new URL(PG_ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    name,
    url: url.toString(),
    async drop() {
      const c = new pg.Client({ connectionString: PG_ADMIN_URL });
      await c.connect();
      try {
        await c.query(`drop database if exists "${name}" with (force)`);
      } finally {
        await c.end();
      }
    },
  };
}

/** A unique key prefix for one test file. */
export function uniqueRedisPrefix(label = "t"): string {
  return `test:${label}:${suffix()}:`;
}

/** Deletes every key under `prefix`. */
export async function cleanRedisPrefix(prefix: string): Promise<void> {
  const client = createClient({ url: REDIS_URL });
  await client.connect();
  try {
    const batch: string[] = [];
    for await (const keys of client.scanIterator({ MATCH: `${prefix}*`, COUNT: 500 })) {
      batch.push(...keys);
    }
    for (let i = 0; i < batch.length; i += 500) await client.del(batch.slice(i, i + 500));
  } finally {
    await client.quit();
  }
}
