/**
 * Chaos bench (issue 8, PROTOCOL §6): two gateway nodes (in this process) on a throwaway
 * Redis and a PostgreSQL reached through a TCP proxy; 20 vets accept every offer and end
 * each consultation shortly after; owners request at a steady rate. Meanwhile Redis is
 * restarted empty twice and PostgreSQL is cut for 2 s twice.
 *
 * The clients behave as the SDK asks of real apps: a refused handshake or request (503, or an
 * ack cut by the fault) is tried again after a pause, a vet sets itself `available` again
 * whenever the gateway set it `away`, and a console that resumes a consultation
 * (`consult:state`) ends it like any other. Then, from the database and from what every client
 * was told, it prints:
 *
 *   requests    owners who asked (one request each); `matched` got `consult:matched`
 *   lost        a client was told of something the database lacks: an owner's
 *               `consult:matched` or a vet's accept ack without an `active` transition
 *               recorded, an owner's `consult:ended` or a vet's end ack with the consultation
 *               not closed (ended or cancelled), a `consult:expired` not recorded `expired`
 *   stuck       open in the database after the settle window with no live state (nothing
 *               will ever move it)
 *   waiting     open in the database after the settle window with live state (still queued,
 *               offered or active: served late, but not forgotten)
 *   double      a consultation whose accept two different vets were told succeeded
 *   slow        requests that waited longer than QUEUE_TIMEOUT_MS for a vet or an expiry
 *   unacked     owners whose request never got a success ack in the run (their handshake
 *               or every try was refused); the fault is then the client's to see, not lost
 *   refused     acks of 503 (the database or Redis away), each retried by the client
 *   cut         acks that never came (the request may or may not have been applied), retried
 *   reconnects  handshakes refused and tried again (owners and vets)
 *
 * With --verbose every lost, stuck or double case is printed with its database history.
 *
 *   npx tsx bench/chaos.ts [--seconds 60] [--rate 50] [--vets 20] [--settle 60] [--queue-timeout-ms 600000] [--verbose 1]
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
import { createTempDatabase, GATEWAY_SECRET, numFlag, onCleanup, parseFlags, runBench, sleep } from "./lib/services.js";

/** What one owner was told, per consultation id. */
interface Told {
  requestedAt: number;
  id: string | null;
  matched: Set<string>;
  matchedAt: number | null;
  ended: Set<string>;
  expired: Set<string>;
  expiredAt: number | null;
}

const flags = parseFlags(process.argv.slice(2));
const SECONDS = numFlag(flags, "seconds", 60);
const RATE = numFlag(flags, "rate", 50);
const VETS = numFlag(flags, "vets", 20);
const SETTLE_S = numFlag(flags, "settle", 60);
const QUEUE_TIMEOUT_MS = numFlag(flags, "queue-timeout-ms", 600_000);
const CONSULT_MS = numFlag(flags, "consult-ms", 300);
const VERBOSE = numFlag(flags, "verbose", 0) > 0;
// Pause before a client tries again after a refusal: doubling from 250 ms to 4 s, with
// jitter, so hundreds of clients refused together do not come back together.
const backoff = (attempt: number) => Math.min(4000, 250 * 2 ** Math.min(attempt, 4)) * (0.5 + Math.random() / 2);

const counters = { refused: 0, cut: 0, reconnects: 0, unhandled: 0 };

// As src/main.ts does: the Socket.IO Redis adapter publishes without a catch, so while Redis
// is down a broadcast rejects unhandled. Logged there; counted here (the nodes run in-process).
process.on("unhandledRejection", () => void counters.unhandled++);

/**
 * A client socket that, like the SDK, tries a refused handshake again: a handshake refused
 * by the server (`connect_error` with the socket inactive) is not retried by socket.io itself.
 */
function socket(url: string, ns: "/user" | "/vet", token: string): Socket {
  const s = connect(url + ns, { auth: { token }, transports: ["websocket"], reconnection: true, forceNew: true });
  let refusals = 0;
  s.on("connect", () => (refusals = 0));
  s.on("connect_error", () => {
    if (s.active) return; // a transport error: socket.io reconnects by itself
    counters.reconnects++;
    setTimeout(() => s.connect(), backoff(refusals++));
  });
  return s;
}

// Every ack per consultation id, for --verbose.
const trail = new Map<string, string[]>();
const T_START = Date.now();

async function ask(s: Socket, event: string, payload?: unknown): Promise<any> {
  const id = (payload as { consultation_id?: string } | undefined)?.consultation_id;
  const sent = Date.now() - T_START;
  let r: any;
  try {
    r = await s.timeout(10_000).emitWithAck(event, ...(payload === undefined ? [] : [payload]));
    if (r?.status_code === 503) counters.refused++;
  } catch {
    counters.cut++;
    r = { success: false, status_code: 0 };
  }
  if (id && VERBOSE)
    trail.set(id, [...(trail.get(id) ?? []), `${event} ${sent}→${Date.now() - T_START} ms: ${r.status_code}`]);
  return r;
}

/** Asks until success or an answer that retrying cannot change (a 4xx); 503 and cut acks are retried. */
async function insist(s: Socket, event: string, payload: unknown, until: () => boolean): Promise<any> {
  for (let attempt = 0; ; attempt++) {
    const r = await ask(s, event, payload);
    if (r.success || (r.status_code >= 400 && r.status_code < 500) || until()) return r;
    await sleep(backoff(attempt));
  }
}

async function retrying<T>(run: () => Promise<T>, tries = 10): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await run();
    } catch (err) {
      if (i >= tries) throw err;
      await sleep(200 * i);
    }
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
    GATEWAY_SECRET,
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

  // Seeding goes through the proxy with a 1 s deadline: a slow moment is retried, not fatal.
  const app = await retrying(() => seedApp(gws[0]));
  const total = Math.ceil(SECONDS * RATE);
  console.log(`seeding ${VETS} vets and ${total} owners…`);
  const vets = await Promise.all(Array.from({ length: VETS }, () => retrying(() => seedVet(gws[0]))));
  const owners = [];
  for (let i = 0; i < total; i += 25) {
    owners.push(
      ...(await Promise.all(
        Array.from({ length: Math.min(25, total - i) }, () => retrying(() => seedUser(gws[0], app.id))),
      )),
    );
  }

  // Vets: accept every offer, end after CONSULT_MS. What each vet was told, per consultation.
  const acceptedBy = new Map<string, Set<number>>();
  const vetEnded = new Set<string>();
  const vetSockets: Socket[] = [];
  // After the settle window: no new accepts; work in flight finishes (ends until endBy).
  let stopping = false;
  let inFlight = 0;
  let endBy = Infinity;
  for (const [i, v] of vets.entries()) {
    const s = socket(urls[i % 2], "/vet", v.token);
    vetSockets.push(s);
    const working = new Set<string>();
    let settingAvailable = false;
    const available = () => {
      if (settingAvailable || stopping) return;
      settingAvailable = true;
      void insist(s, "presence:set", { status: "available" }, () => stopping || !s.connected).finally(
        () => (settingAvailable = false),
      );
    };
    const work = (id: string, accept: boolean) => {
      if (working.has(id) || stopping) return;
      working.add(id);
      inFlight++;
      void (async () => {
        try {
          if (accept) {
            const r = await insist(s, "consult:accept", { consultation_id: id }, () => stopping);
            if (!r.success) return;
          }
          acceptedBy.set(id, (acceptedBy.get(id) ?? new Set()).add(v.id));
          await sleep(CONSULT_MS);
          // A consultation accepted is ended, also after the settle window (bounded).
          const e = await insist(s, "consult:end", { consultation_id: id }, () => Date.now() > endBy);
          if (e.success) vetEnded.add(id);
        } finally {
          working.delete(id);
          inFlight--;
        }
      })();
    };
    s.on("connect", available);
    s.on("presence", (p: { status: string }) => {
      if (p.status === "away") setTimeout(available, 200);
    });
    s.on("consult:offer", (p: { consultation_id: string }) => work(p.consultation_id, true));
    // A console that reconnected resumes its consultations: they are ended like the others.
    s.on("consult:state", (p: { consultation_id: string }) => work(p.consultation_id, false));
  }
  await sleep(1000);

  // Chaos: Redis restarted empty at 1/3 and 2/3; PostgreSQL cut for 2 s at 1/4 and 3/4.
  const t0 = Date.now();
  const chaos = (async () => {
    const events = [
      {
        at: SECONDS / 4,
        run: async () => (proxy.cut("refuse"), await sleep(2000), proxy.restore()),
        name: "pg cut 2 s",
      },
      { at: SECONDS / 3, run: () => redis.restart(), name: "redis restarted empty" },
      { at: (2 * SECONDS) / 3, run: () => redis.restart(), name: "redis restarted empty" },
      {
        at: (3 * SECONDS) / 4,
        run: async () => (proxy.cut("refuse"), await sleep(2000), proxy.restore()),
        name: "pg cut 2 s",
      },
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
    const t: Told = {
      requestedAt: Date.now(),
      id: null,
      matched: new Set(),
      matchedAt: null,
      ended: new Set(),
      expired: new Set(),
      expiredAt: null,
    };
    told.push(t);
    const s = socket(urls[i % 2], "/user", o.token);
    userSockets.push(s);
    s.on(
      "consult:matched",
      (p: { consultation_id: string }) => (t.matched.add(p.consultation_id), (t.matchedAt ??= Date.now())),
    );
    s.on("consult:ended", (p: { consultation_id: string }) => t.ended.add(p.consultation_id));
    s.on(
      "consult:expired",
      (p: { consultation_id: string }) => (t.expired.add(p.consultation_id), (t.expiredAt ??= Date.now())),
    );
    let requesting = false;
    // Asked on every (re)connect until one try succeeds: a second ask returns the open one.
    s.on("connect", () => {
      if (requesting || t.id !== null) return;
      requesting = true;
      void insist(
        s,
        "consult:request",
        { conversation_request: "chat", pet_id: o.petId },
        () => stopping || !s.connected,
      )
        .then((r) => {
          if (r.success) t.id = r.data.consultation_id as string;
        })
        .finally(() => (requesting = false));
    });
  }
  await chaos;
  console.log(`requests sent in ${((Date.now() - t0) / 1000).toFixed(1)} s; settling up to ${SETTLE_S} s…`);

  const pool = new pg.Pool({ connectionString: db.url, max: 2 });
  onCleanup("close pool", () => pool.end());
  const openCount = async () =>
    Number(
      (await pool.query("select count(*) n from consultations where status in ('queued','offered','active')")).rows[0]
        .n,
    );
  const settleUntil = Date.now() + SETTLE_S * 1000;
  while (Date.now() < settleUntil && ((await openCount()) > 0 || told.some((t) => t.id === null))) await sleep(1000);
  stopping = true;
  endBy = Date.now() + 30_000;
  while (inFlight > 0 && Date.now() < endBy + 11_000) await sleep(200);
  await Promise.all(gws.map((g) => g.engine.flush()));

  const rows = new Map<string, { status: string; accepted: boolean }>();
  for (const r of (
    await pool.query<{ id: string; status: string; accepted: boolean }>(
      "select c.id, c.status, exists (select 1 from consultation_events e where e.consultation_id = c.id and e.to_status = 'active') accepted from consultations c",
    )
  ).rows) {
    rows.set(r.id, r);
  }
  const closed = (id: string) => ["ended", "cancelled"].includes(rows.get(id)?.status ?? "");
  const lostIds = new Set<string>();
  for (const t of told) {
    for (const id of t.matched) if (!rows.get(id)?.accepted) lostIds.add(id);
    for (const id of t.ended) if (!closed(id)) lostIds.add(id);
    for (const id of t.expired) if (rows.get(id)?.status !== "expired") lostIds.add(id);
  }
  for (const id of acceptedBy.keys()) if (!rows.get(id)?.accepted) lostIds.add(id);
  for (const id of vetEnded) if (!closed(id)) lostIds.add(id);
  const store = (gws[0].engine as unknown as { store: RoutingStore }).store;
  const stuckIds: string[] = [];
  let waiting = 0;
  for (const [id, r] of rows) {
    if (!["queued", "offered", "active"].includes(r.status)) continue;
    if (await store.getConsultation(id)) waiting++;
    else stuckIds.push(id);
  }
  const doubleIds = [...acceptedBy].filter(([, v]) => v.size > 1).map(([id]) => id);
  const slow = told.filter((t) => {
    const done = t.matchedAt ?? t.expiredAt ?? Date.now();
    return t.id !== null && done - t.requestedAt > QUEUE_TIMEOUT_MS;
  }).length;
  const unacked = told.filter((t) => t.id === null).length;
  const rebuilds = (
    await Promise.all(gws.map(async (g) => (await g.ctx.metrics.rebuilds.get()).values[0]?.value ?? 0))
  ).reduce((a, b) => a + b, 0);

  if (VERBOSE) {
    const show = async (label: string, ids: Iterable<string>) => {
      for (const id of ids) {
        const t = told.find((x) => x.id === id || x.matched.has(id));
        const ev = await pool.query(
          "select from_status, to_status, at, detail from consultation_events where consultation_id = $1 order by id",
          [id],
        );
        const of = await pool.query(
          "select vet_id, offered_at, outcome, resolved_at from offers where consultation_id = $1 order by id",
          [id],
        );
        console.log(
          `${label} ${id} (t0 ${new Date(T_START).toISOString()}): db ${rows.get(id)?.status ?? "missing"}; owner told matched=${t?.matched.has(id)} ended=${t?.ended.has(id)} expired=${t?.expired.has(id)}; vets accepted=${[...(acceptedBy.get(id) ?? [])].join(",")} ended=${vetEnded.has(id)}; live=${JSON.stringify({ ...(await store.getConsultation(id)), profile: undefined })}`,
        );
        const row = await pool.query(
          "select status, vet_id, updated_at, ended_at, accepted_at from consultations where id = $1",
          [id],
        );
        console.log(`    row now ${JSON.stringify(row.rows[0])}`);
        for (const a of trail.get(id) ?? []) console.log(`    ack ${a}`);
        for (const e of ev.rows)
          console.log(`    ${e.at.toISOString()} ${e.from_status} → ${e.to_status} ${JSON.stringify(e.detail)}`);
        for (const o of of.rows)
          console.log(
            `    offer vet ${o.vet_id} at ${o.offered_at.toISOString()} → ${o.outcome} ${o.resolved_at?.toISOString() ?? ""}`,
          );
      }
    };
    await show("lost", lostIds);
    await show("stuck", stuckIds);
    await show("double", doubleIds);
  }

  for (const s of [...userSockets, ...vetSockets]) s.disconnect();
  // Let the gateways see the disconnects before they close their Redis clients.
  await sleep(1000);

  console.log(
    `requests ${told.length}, matched ${told.filter((t) => t.matchedAt).length}, expired ${told.filter((t) => t.expiredAt).length}, ` +
      `unacked ${unacked}, refused (503, retried) ${counters.refused}, cut acks (retried) ${counters.cut}, ` +
      `reconnects ${counters.reconnects}, rebuilds ${rebuilds}, unhandled rejections (adapter publish, Redis down) ${counters.unhandled}`,
  );
  console.log(
    `lost ${lostIds.size}  stuck ${stuckIds.length}  waiting ${waiting}  double ${doubleIds.length}  slow ${slow}`,
  );
}

await runBench(main);
