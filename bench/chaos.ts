/**
 * Chaos bench (issue 8, PROTOCOL §6): two gateway nodes (in this process) on a throwaway
 * Redis and a PostgreSQL reached through a TCP proxy; 20 vets accept every offer and end
 * each consultation shortly after; owners request at a steady rate. Meanwhile Redis is
 * restarted empty twice and PostgreSQL is cut for 2 s twice. It prints, from the database
 * and from what every client was told:
 *   lost    a client was told of a consultation or a status the database lacks
 *   stuck   open in the database with no live state after the settle window
 *   double  a consultation accepted by two vets
 *   slow    requests that waited longer than QUEUE_TIMEOUT_MS for a vet or an expiry
 *
 *   npx tsx bench/chaos.ts [--seconds 60] [--rate 50] [--vets 20] [--settle 60] [--queue-timeout-ms 600000]
 */
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { io as connect, type Socket } from "socket.io-client";
import { loadConfig } from "../src/config.js";
import type { RoutingStore } from "../src/domain/routing-store.js";
import { createLogger } from "../src/lib/logger.js";
import { buildGateway, type Gateway } from "../src/server.js";
import { seedApp, seedUser, seedVet } from "../test/support/actors.js";
import { startThrowawayRedis } from "../test/support/redis-server.js";
import { startTcpProxy } from "../test/support/tcp-proxy.js";
import { createTempDatabase, numFlag, onCleanup, parseFlags, runBench, sleep } from "./lib/services.js";

interface Told {
  requestedAt: number;
  id: string | null;
  matchedAt: number | null;
  endedAt: number | null;
  expiredAt: number | null;
  refused: number;
}

const flags = parseFlags(process.argv.slice(2));
const SECONDS = numFlag(flags, "seconds", 60);
const RATE = numFlag(flags, "rate", 50);
const VETS = numFlag(flags, "vets", 20);
const SETTLE_S = numFlag(flags, "settle", 60);
const QUEUE_TIMEOUT_MS = numFlag(flags, "queue-timeout-ms", 600_000);
const CONSULT_MS = numFlag(flags, "consult-ms", 300);

const socket = (url: string, ns: "/user" | "/vet", token: string): Socket =>
  connect(url + ns, { auth: { token }, transports: ["websocket"], reconnection: true, forceNew: true });

async function ask(s: Socket, event: string, payload?: unknown): Promise<any> {
  try {
    return await s.timeout(10_000).emitWithAck(event, ...(payload === undefined ? [] : [payload]));
  } catch {
    return { success: false, status_code: 0 };
  }
}

async function main(): Promise<void> {
  const db = await createTempDatabase("chaos");
  const redis = await startThrowawayRedis();
  onCleanup("stop throwaway redis", () => redis.stop());
  const target = new URL(db.url);
  const proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 5432) });
  onCleanup("close pg proxy", () => proxy.close());
  const dataDir = mkdtempSync(path.join(os.tmpdir(), "vcg-chaos-"));
  onCleanup("remove data dir", () => Promise.resolve(rmSync(dataDir, { recursive: true, force: true })));
  const config = loadConfig({
    NODE_ENV: "production",
    PORT: "0",
    HOST: "127.0.0.1",
    LOG_LEVEL: process.env.LOG_LEVEL ?? "warn",
    DATA_DIR: dataDir,
    DATABASE_URL: proxy.url(db.url),
    REDIS_URL: redis.url,
    DATABASE_TIMEOUT_MS: "1000",
    REDIS_COMMAND_TIMEOUT_MS: "1000",
    QUEUE_TIMEOUT_MS: String(QUEUE_TIMEOUT_MS),
    WRAPUP_MS: "0",
    // Bench vets accept and end at machine speed, beyond the per-socket event limit.
    SOCKET_EVENTS_PER_S: "1000",
    USER_GRACE_MS: String(QUEUE_TIMEOUT_MS),
    GATEWAY_SECRET: "chaos-gateway-secret-0123456789abcdef-0123456789",
    ADMIN_TOKEN: "chaos-admin-token-0123456789abcdef",
    RATE_LIMIT_PER_MIN: "1000000",
  });
  const gws: Gateway[] = [];
  const urls: string[] = [];
  for (let i = 0; i < 2; i++) {
    const gw = await buildGateway(config, { logger: createLogger(config.logLevel) });
    gws.push(gw);
    urls.push(`http://127.0.0.1:${(await gw.listen()).port}`);
  }
  onCleanup("close gateways", async () => {
    for (const gw of gws) await gw.close();
  });

  const app = await seedApp(gws[0]);
  const total = Math.ceil(SECONDS * RATE);
  console.log(`seeding ${VETS} vets and ${total} owners…`);
  const vets = await Promise.all(Array.from({ length: VETS }, () => seedVet(gws[0])));
  const owners = [];
  for (let i = 0; i < total; i += 50) {
    owners.push(...(await Promise.all(Array.from({ length: Math.min(50, total - i) }, () => seedUser(gws[0], app.id)))));
  }

  // Vets: accept every offer, end after CONSULT_MS. Accepted ids per vet (double assignment).
  const acceptedBy = new Map<string, number[]>();
  const vetSockets: Socket[] = [];
  for (const [i, v] of vets.entries()) {
    const s = socket(urls[i % 2], "/vet", v.token);
    vetSockets.push(s);
    const available = () => void ask(s, "presence:set", { status: "available" });
    s.on("connect", available);
    s.on("presence", (p: { status: string }) => {
      if (p.status === "away") setTimeout(available, 200);
    });
    s.on("consult:offer", (p: { consultation_id: string }) => {
      void (async () => {
        const r = await ask(s, "consult:accept", { consultation_id: p.consultation_id });
        if (!r.success) return;
        acceptedBy.set(p.consultation_id, [...(acceptedBy.get(p.consultation_id) ?? []), v.id]);
        await sleep(CONSULT_MS);
        for (let tries = 0; tries < 20; tries++) {
          const e = await ask(s, "consult:end", { consultation_id: p.consultation_id });
          if (e.success || e.status_code === 404 || e.status_code === 409) break;
          await sleep(500);
        }
      })();
    });
  }
  await sleep(1000);

  // Chaos: Redis restarted empty at 1/3 and 2/3; PostgreSQL cut for 2 s at 1/4 and 3/4.
  const t0 = Date.now();
  const chaos = (async () => {
    const events = [
      { at: SECONDS / 4, run: async () => (proxy.cut("refuse"), await sleep(2000), proxy.restore()), name: "pg cut 2 s" },
      { at: SECONDS / 3, run: () => redis.restart(), name: "redis restarted empty" },
      { at: (2 * SECONDS) / 3, run: () => redis.restart(), name: "redis restarted empty" },
      { at: (3 * SECONDS) / 4, run: async () => (proxy.cut("refuse"), await sleep(2000), proxy.restore()), name: "pg cut 2 s" },
    ];
    for (const e of events) {
      await sleep(Math.max(0, t0 + e.at * 1000 - Date.now()));
      console.log(`t=${((Date.now() - t0) / 1000).toFixed(1)} s: ${e.name}`);
      await e.run();
    }
  })();

  // Owners: one request each at RATE per second; record what each was told.
  const told: Told[] = [];
  const userSockets: Socket[] = [];
  for (let i = 0; i < total; i++) {
    await sleep(Math.max(0, t0 + (i * 1000) / RATE - Date.now()));
    const o = owners[i];
    const t: Told = { requestedAt: Date.now(), id: null, matchedAt: null, endedAt: null, expiredAt: null, refused: 0 };
    told.push(t);
    const s = socket(urls[i % 2], "/user", o.token);
    userSockets.push(s);
    s.on("consult:matched", () => (t.matchedAt ??= Date.now()));
    s.on("consult:ended", () => (t.endedAt ??= Date.now()));
    s.on("consult:expired", () => (t.expiredAt ??= Date.now()));
    s.once("connect", () => {
      void (async () => {
        // A refused request (503) is retried, as a client should.
        for (let tries = 0; tries < 20 && t.id === null; tries++) {
          const r = await ask(s, "consult:request", { conversation_request: "chat", pet_id: o.petId });
          if (r.success) {
            t.id = r.data.consultation_id as string;
          } else {
            t.refused++;
            await sleep(500);
          }
        }
      })();
    });
  }
  await chaos;
  console.log(`requests sent in ${((Date.now() - t0) / 1000).toFixed(1)} s; settling up to ${SETTLE_S} s…`);

  const pool = new pg.Pool({ connectionString: db.url, max: 2 });
  onCleanup("close pool", () => pool.end());
  const openCount = async () => Number((await pool.query("select count(*) n from consultations where status in ('queued','offered','active')")).rows[0].n);
  const settleUntil = Date.now() + SETTLE_S * 1000;
  while (Date.now() < settleUntil && (await openCount()) > 0) await sleep(1000);
  await Promise.all(gws.map((g) => g.engine.flush()));

  const rows = new Map<string, { status: string; accepted: boolean }>();
  for (const r of (
    await pool.query<{ id: string; status: string; accepted: boolean }>(
      "select c.id, c.status, exists (select 1 from consultation_events e where e.consultation_id = c.id and e.to_status = 'active') accepted from consultations c",
    )
  ).rows) {
    rows.set(r.id, r);
  }
  let lost = 0;
  for (const t of told) {
    if (t.id === null) continue;
    const row = rows.get(t.id);
    if (!row || (t.matchedAt && !row.accepted) || (t.endedAt && row.status !== "ended") || (t.expiredAt && row.status !== "expired")) lost++;
  }
  const store = (gws[0].engine as unknown as { store: RoutingStore }).store;
  let stuck = 0;
  for (const [id, r] of rows) {
    if (["queued", "offered", "active"].includes(r.status) && !(await store.getConsultation(id))) stuck++;
  }
  const double = [...acceptedBy.values()].filter((v) => new Set(v).size > 1).length;
  const slow = told.filter((t) => {
    const done = t.matchedAt ?? t.expiredAt ?? Date.now();
    return t.id !== null && done - t.requestedAt > QUEUE_TIMEOUT_MS;
  }).length;
  const unanswered = told.filter((t) => t.id === null).length;
  const refused = told.reduce((a, t) => a + t.refused, 0);
  const rebuilds = (await Promise.all(gws.map(async (g) => (await g.ctx.metrics.rebuilds.get()).values[0]?.value ?? 0))).reduce((a, b) => a + b, 0);
  for (const s of [...userSockets, ...vetSockets]) s.disconnect();

  console.log(`requests ${told.length}, matched ${told.filter((t) => t.matchedAt).length}, open in db ${await openCount()}, refused (503, retried) ${refused}, never accepted ${unanswered}, rebuilds ${rebuilds}`);
  console.log(`lost ${lost}  stuck ${stuck}  double ${double}  slow ${slow}`);
}

await runBench(main);
