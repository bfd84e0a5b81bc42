/**
 * Shared plumbing for the load benches: a throw-away PostgreSQL database, a unique Redis
 * key prefix, gateway nodes in child processes (`node dist/main.js`), CPU
 * accounting from /proc, and a cleanup registry that runs on normal exit, error or Ctrl-C.
 * Everything here talks to 127.0.0.1 only.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createTestDatabase } from "../../test/support/services.js";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { createClient } from "redis";

export const REPO_ROOT = fileURLToPath(new URL("../..", import.meta.url));
export const PG_ADMIN_URL = process.env.BENCH_PG_URL ?? "postgres://postgres@127.0.0.1:5432/test";
export const REDIS_URL = process.env.BENCH_REDIS_URL ?? "redis://127.0.0.1:6379";
// Made per run and handed to the gateways a bench starts: no printed secret works anywhere.
export const ADMIN_TOKEN = randomBytes(32).toString("base64url");
export const GATEWAY_SECRET = randomBytes(32).toString("base64url");

const suffix = () => `${Date.now().toString(36)}_${randomBytes(3).toString("hex")}`;

// ------------------------------------------------------------------ cleanup registry

type Cleanup = { label: string; run: () => Promise<unknown> };
const cleanups: Cleanup[] = [];
const children = new Set<ChildProcess>();
let cleaning: Promise<void> | null = null;

/** Registers a teardown step; steps run last-registered first. */
export function onCleanup(label: string, run: () => Promise<unknown>): void {
  cleanups.push({ label, run });
}

/** Runs every registered teardown step once (idempotent). */
export function cleanupAll(): Promise<void> {
  cleaning ??= (async () => {
    for (const c of cleanups.reverse()) {
      try {
        await c.run();
      } catch (err) {
        console.error(`cleanup "${c.label}" failed: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    cleanups.length = 0;
  })();
  return cleaning;
}

// A crash must not leave gateway children behind.
process.on("exit", () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
});
// Ctrl-C reaches this process more than once (directly, and relayed by the npx and tsx
// wrappers): the first signal starts the cleanup, later ones must not cut it short.
let interrupted = false;
for (const sig of ["SIGINT", "SIGTERM"] as const) {
  process.on(sig, () => {
    if (interrupted) return;
    interrupted = true;
    console.error(`\n${sig}: cleaning up`);
    void cleanupAll().finally(() => {
      console.error("interrupted: cleanup done");
      process.exit(130);
    });
  });
}

// What this run created, so the final check can prove it is gone.
const createdDatabases: string[] = [];
const createdPrefixes: string[] = [];

/** After cleanup: children still running, databases or Redis keys this run created that remain. */
async function leftovers(): Promise<string[]> {
  const left: string[] = [];
  for (const c of children)
    if (c.exitCode === null && c.signalCode === null) left.push(`child pid ${c.pid} still running`);
  if (createdDatabases.length) {
    const c = new pg.Client({ connectionString: PG_ADMIN_URL });
    await c.connect();
    try {
      const r = await c.query<{ datname: string }>("select datname from pg_database where datname = any($1)", [
        createdDatabases,
      ]);
      for (const row of r.rows) left.push(`database ${row.datname}`);
    } finally {
      await c.end();
    }
  }
  for (const p of createdPrefixes) {
    const n = await countRedisKeys(p);
    if (n > 0) left.push(`${n} Redis keys under ${p}`);
  }
  return left;
}

/** Runs `main`, then the cleanup steps, checks nothing was left behind, and exits (0 on success). */
export async function runBench(main: () => Promise<void>): Promise<never> {
  let failed = false;
  try {
    await main();
  } catch (err) {
    failed = true;
    console.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
  } finally {
    await cleanupAll();
  }
  try {
    const left = await leftovers();
    if (left.length) {
      failed = true;
      console.error(`left behind: ${left.join("; ")}`);
    } else {
      console.log(
        `cleanup: children stopped, ${createdDatabases.length} database(s) dropped, ${createdPrefixes.length} Redis prefix(es) emptied`,
      );
    }
  } catch (err) {
    failed = true;
    console.error(`leftover check failed: ${err instanceof Error ? err.message : String(err)}`);
  }
  process.exit(failed ? 1 : 0);
}

// ------------------------------------------------------------------ PostgreSQL, Redis

/** Creates an empty database `bench_<label>_<suffix>` and registers its drop. */
export async function createTempDatabase(label: string): Promise<{ name: string; url: string }> {
  const db = await createTestDatabase(label, "bench");
  onCleanup(`drop database ${db.name}`, () => db.drop());
  createdDatabases.push(db.name);
  return { name: db.name, url: db.url };
}

/** A unique Redis key prefix; registers the deletion of every key under it. */
export function createRedisPrefix(label: string): string {
  const prefix = `bench:${label}:${suffix()}:`;
  createdPrefixes.push(prefix);
  onCleanup(`delete redis ${prefix}*`, () => deleteRedisPrefix(prefix));
  return prefix;
}

/**
 * Gathers planner statistics, as autovacuum does for a database in service (about a minute
 * after a table changed by a tenth). A fresh bench database has none: PostgreSQL read the
 * owner-and-pet lookup through the `users_app_registered` index (74 buffers, every user of
 * the app) instead of the primary key, and statements first planned while `consultations`
 * was empty kept scanning it whole as it grew (336 seq scans reading 40,000 rows in the
 * first seconds of a match run). Benches call this after seeding and halfway through their
 * warm-up (the nodes then re-plan every cached statement, which must not fall in a measured phase).
 */
export async function analyzeDatabase(url: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query("ANALYZE");
  } finally {
    await client.end();
  }
}

/** Deletes every key under `prefix`; returns how many there were. */
export async function deleteRedisPrefix(prefix: string): Promise<number> {
  const client = createClient({ url: REDIS_URL });
  await client.connect();
  try {
    const keys: string[] = [];
    for await (const batch of client.scanIterator({ MATCH: `${prefix}*`, COUNT: 1000 })) keys.push(...batch);
    for (let i = 0; i < keys.length; i += 500) await client.del(keys.slice(i, i + 500));
    return keys.length;
  } finally {
    await client.quit();
  }
}

/** How many keys exist under `prefix`. */
export async function countRedisKeys(prefix: string): Promise<number> {
  const client = createClient({ url: REDIS_URL });
  await client.connect();
  try {
    let n = 0;
    for await (const batch of client.scanIterator({ MATCH: `${prefix}*`, COUNT: 1000 })) n += batch.length;
    return n;
  } finally {
    await client.quit();
  }
}

/** Cumulative counters of one database (pg_stat_database; PostgreSQL flushes them about once a second). */
export async function databaseCounters(name: string): Promise<{ commits: number; written: number }> {
  const c = new pg.Client({ connectionString: PG_ADMIN_URL });
  await c.connect();
  try {
    const r = await c.query<{ commits: string; written: string }>(
      "select xact_commit as commits, tup_inserted + tup_updated + tup_deleted as written from pg_stat_database where datname = $1",
      [name],
    );
    return { commits: Number(r.rows[0]?.commits ?? 0), written: Number(r.rows[0]?.written ?? 0) };
  } finally {
    await c.end();
  }
}

/** A temporary directory (the gateway's DATA_DIR), removed at cleanup. */
export function tempDir(label: string): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), `vcg-bench-${label}-`));
  onCleanup(`rm ${dir}`, () => Promise.resolve(rmSync(dir, { recursive: true, force: true })));
  return dir;
}

// ------------------------------------------------------------------ gateway child processes

/** A free TCP port on 127.0.0.1 (the OS picks it; the child binds it a moment later). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

export interface GatewayNode {
  readonly name: string;
  readonly url: string;
  readonly pid: number;
  readonly child: ChildProcess;
  /** SIGTERM (the gateway drains and exits 0), SIGKILL after `graceMs`. Resolves to the exit code. */
  stop(graceMs?: number): Promise<number | null>;
}

export interface SpawnOptions {
  name: string;
  /** Gateway configuration (PORT and HOST are set here). */
  env: Record<string, string>;
  /**
   * Writes V8 CPU profiles (`--cpu-prof`) into `{cpuProfDir}/{name}/` when the node exits:
   * one per thread; {@link mainThreadProfile} picks the gateway's.
   */
  cpuProfDir?: string | undefined;
  /** Listen on this port (a restart on the same address); default a free one. */
  port?: number;
}

let built: Promise<void> | undefined;

/**
 * Builds the server once per bench run as `npm run build` does (TypeScript, then the routing
 * store's Lua files beside the compiled code); the pages are not needed.
 */
function ensureBuilt(): Promise<void> {
  const run = (args: string[]) =>
    new Promise<void>((resolve, reject) => {
      const child = spawn(args[0], args.slice(1), { cwd: REPO_ROOT, stdio: "inherit" });
      child.once("exit", (code) => (code === 0 ? resolve() : reject(new Error(`build failed (${String(code)})`))));
    });
  built ??= run([
    process.execPath,
    path.join(REPO_ROOT, "node_modules/typescript/bin/tsc"),
    "-p",
    "tsconfig.build.json",
  ]).then(() => run(["npm", "run", "-s", "copy:lua"]));
  return built;
}

/**
 * Builds once, then starts the compiled gateway (`node --enable-source-maps dist/main.js`,
 * what `npm start` runs) with exactly `env` (plus PATH/HOME) and waits until `GET /healthz`
 * answers. The child's stderr is echoed with the node's name as a prefix.
 */
export async function spawnGateway(opts: SpawnOptions): Promise<GatewayNode> {
  await ensureBuilt();
  const port = opts.port ?? (await freePort());
  // What `npm start` runs; profiling adds its flags (source maps name the TypeScript lines).
  const args = [
    // Extra Node/V8 flags for the gateways only, e.g. GATEWAY_NODE_ARGS=--perf-basic-prof for `perf record`.
    ...(process.env.GATEWAY_NODE_ARGS?.split(" ").filter(Boolean) ?? []),
    ...(opts.cpuProfDir
      ? ["--cpu-prof", `--cpu-prof-dir=${path.join(opts.cpuProfDir, opts.name)}`, "--enable-source-maps"]
      : []),
    "dist/main.js",
  ];
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    HOME: process.env.HOME ?? os.tmpdir(),
    // tsx keeps its transform cache (and the source maps profile.ts reads) under TMPDIR.
    ...(process.env.TMPDIR ? { TMPDIR: process.env.TMPDIR } : {}),
    ...opts.env,
    PORT: String(port),
    HOST: "127.0.0.1",
  };
  const child = spawn(process.execPath, args, {
    cwd: REPO_ROOT,
    env,
    stdio: ["ignore", process.env.GATEWAY_STDOUT ? "inherit" : "ignore", "pipe"],
  });
  children.add(child);
  let exited = false;
  const exit = new Promise<number | null>((resolve) =>
    child.once("exit", (code) => {
      exited = true;
      children.delete(child);
      resolve(code);
    }),
  );
  child.stderr?.setEncoding("utf8");
  child.stderr?.on("data", (chunk: string) => {
    for (const line of chunk.split("\n")) if (line.trim()) process.stderr.write(`[${opts.name}] ${line}\n`);
  });

  const stop = async (graceMs = 15_000): Promise<number | null> => {
    if (exited) return child.exitCode;
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
    const code = await exit;
    clearTimeout(timer);
    return code;
  };
  onCleanup(`stop ${opts.name}`, () => stop());

  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (exited) throw new Error(`${opts.name} exited with code ${String(child.exitCode)} before it was ready`);
    try {
      const res = await fetch(`${url}/healthz`);
      if (res.ok) break;
    } catch {
      /* not listening yet */
    }
    if (Date.now() > deadline) throw new Error(`${opts.name} did not become ready within 60 s`);
    await sleep(100);
  }
  return { name: opts.name, url, pid: child.pid!, child, stop };
}

/** The main thread's profile of a node: the largest `.cpuprofile` in its directory. */
export function mainThreadProfile(cpuProfDir: string, name: string): string {
  const dir = path.join(cpuProfDir, name);
  const files = readdirSync(dir)
    .filter((f) => f.endsWith(".cpuprofile"))
    .map((f) => ({ f: path.join(dir, f), size: statSync(path.join(dir, f)).size }))
    .sort((a, b) => b.size - a.size);
  if (!files[0]) throw new Error(`no profile in ${dir}`);
  return files[0].f;
}

// ------------------------------------------------------------------ CPU accounting

const CLK_TCK = 100; // Linux USER_HZ

/** utime+stime of a process in ms, from /proc (0 when it is gone). */
export function procCpuMs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return ((Number(rest[11]) + Number(rest[12])) * 1000) / CLK_TCK;
  } catch {
    return 0;
  }
}

/** Pids whose command name is `comm` (e.g. `postgres`, `redis-server`). */
export function pidsByComm(comm: string): number[] {
  const out: number[] = [];
  for (const d of readdirSync("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    try {
      if (readFileSync(`/proc/${d}/comm`, "utf8").trim() === comm) out.push(Number(d));
    } catch {
      /* gone */
    }
  }
  return out;
}

/** Busy and total jiffies of the whole machine, from /proc/stat. */
function machineJiffies(): { busy: number; total: number } {
  const f = readFileSync("/proc/stat", "utf8").split("\n")[0].trim().split(/\s+/).slice(1).map(Number);
  const total = f.reduce((a, b) => a + b, 0);
  const idle = (f[3] ?? 0) + (f[4] ?? 0);
  return { busy: total - idle, total };
}

/** Busy percent of the whole machine over `ms` (other work that would skew the figures). */
export async function backgroundLoad(ms = 1000): Promise<number> {
  const a = machineJiffies();
  await sleep(ms);
  const b = machineJiffies();
  return Math.round(((b.busy - a.busy) * 100) / Math.max(1, b.total - a.total));
}

/**
 * CPU use over an interval, in percent of one core: the bench process itself, each named
 * pid, all `postgres` and `redis-server` processes, and the machine (percent of all cores).
 */
export class CpuMeter {
  private readonly t0 = performance.now();
  private readonly self0 = process.cpuUsage();
  private readonly named0: Map<string, number>;
  private readonly pg0 = new Map<number, number>();
  private readonly redis0 = new Map<number, number>();
  private readonly m0 = machineJiffies();

  constructor(private readonly named: Record<string, number>) {
    this.named0 = new Map(Object.entries(named).map(([k, pid]) => [k, procCpuMs(pid)]));
    for (const pid of pidsByComm("postgres")) this.pg0.set(pid, procCpuMs(pid));
    for (const pid of pidsByComm("redis-server")) this.redis0.set(pid, procCpuMs(pid));
  }

  read(): Record<string, number> {
    const wall = performance.now() - this.t0;
    const pct = (ms: number) => Math.round((ms * 100) / wall);
    const self = process.cpuUsage(this.self0);
    const out: Record<string, number> = { bench: pct((self.user + self.system) / 1000) };
    for (const [k, pid] of Object.entries(this.named)) out[k] = pct(procCpuMs(pid) - (this.named0.get(k) ?? 0));
    const group = (comm: string, before: Map<number, number>) =>
      pidsByComm(comm).reduce((sum, pid) => sum + procCpuMs(pid) - (before.get(pid) ?? 0), 0);
    out.postgres = pct(group("postgres", this.pg0));
    out.redis = pct(group("redis-server", this.redis0));
    const m = machineJiffies();
    const machine = ((m.busy - this.m0.busy) * 100) / Math.max(1, m.total - this.m0.total);
    // Whatever else ran meanwhile (other processes on a shared machine), in % of one core.
    const known = Object.values(out).reduce((a, b) => a + b, 0);
    out.other = Math.max(0, Math.round(machine * os.cpus().length - known));
    out.machine = Math.round(machine);
    return out;
  }
}

/** `bench 95% node-a 80% … machine 97% (of all cores)`. */
export function formatCpu(c: Record<string, number>): string {
  return Object.entries(c)
    .map(([k, v]) =>
      k === "machine"
        ? `machine ${v}% of ${os.cpus().length} cores`
        : k === "other"
          ? `other processes ${v}%`
          : `${k} ${v}%`,
    )
    .join(", ");
}

// ------------------------------------------------------------------ small helpers

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Nearest-rank percentile of an ascending array. */
export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

/** `--name value` / `--name=value` / `--flag` from argv. */
export function parseFlags(argv: string[]): Map<string, string> {
  const flags = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith("--")) continue;
    const eq = a.indexOf("=");
    if (eq > 0) flags.set(a.slice(2, eq), a.slice(eq + 1));
    else if (i + 1 < argv.length && !argv[i + 1].startsWith("--")) flags.set(a.slice(2), argv[++i]);
    else flags.set(a.slice(2), "true");
  }
  return flags;
}

/** A numeric flag with a default; exits on a non-number. */
export function numFlag(flags: Map<string, string>, name: string, def: number): number {
  const v = flags.get(name);
  if (v === undefined) return def;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new Error(`--${name} must be a non-negative number, got ${v}`);
  return n;
}

/** JSON request to a gateway; throws unless the status is 2xx. */
export async function http<T = any>(
  url: string,
  init: { method?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<T> {
  const res = await fetch(url, {
    method: init.method ?? (init.body === undefined ? "GET" : "POST"),
    headers: {
      accept: "application/json",
      ...(init.body === undefined ? {} : { "content-type": "application/json" }),
      ...init.headers,
    },
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${init.method ?? "GET"} ${url} → ${res.status}: ${text.slice(0, 300)}`);
  return JSON.parse(text) as T;
}

/** `Authorization: Basic` header value for an app. */
export const basicAuth = (nameOrId: string | number, secret: string) =>
  `Basic ${Buffer.from(`${nameOrId}:${secret}`).toString("base64")}`;
