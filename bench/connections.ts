/**
 * Idle connections, a reconnect storm and matching with them all connected (issue 26):
 * `npx tsx bench/connections.ts`.
 *
 * One gateway node (`node dist/main.js`, LOG_LEVEL=silent) on PostgreSQL and Redis; this
 * process seeds one app, V vets and N owners (one pet each) through the repositories, then:
 *   1. connects the N owners to `/user` (websocket, C handshakes in flight) and prints
 *      connections per second, and the node's RSS and heap per idle socket (measured against
 *      the node before any owner connected);
 *   2. connects the V vets, and while all N owners stay connected, M of them ask at R/s for
 *      D s (vets accept at once and end right after): match p50/p99 (request → matched);
 *   3. kills the node (SIGKILL) and starts it again on the same port: every owner (each is the
 *      client SDK, `createOwnerClient`) reconnects with the SDK's own backoff and jitter, also
 *      after a refused handshake, and the bench prints how long after the kill the node was up
 *      and all N were back.
 *
 * Each owner takes a file descriptor here and one in the node: `ulimit -n` must exceed N by a
 * few hundred (this VM's hard limit is 20,000, so it runs at most 19,500 owners).
 *
 * Flags (defaults): --owners 20000 --vets 50 --concurrency 200 --askers 500 --rate 50 --duration 10
 * Goals (issue 26): ≥ 2,000 connections/s; ≤ 10 KB per idle socket; all back within 15 s of
 * the kill; match p99 < 25 ms with them connected. Everything is torn down at the end.
 */
import { readFileSync } from "node:fs";
import { io, type Socket } from "socket.io-client";
import { createOwnerClient, type OwnerClient } from "../src/client/index.js";
import { SocketTokens } from "../src/auth/socket-tokens.js";
import { openDatabase } from "../src/db/database.js";
import { systemClock } from "../src/lib/clock.js";
import { createRepositories } from "../src/repositories/index.js";
import { ask } from "./lib/sockets.js";
import {
  ADMIN_TOKEN,
  analyzeDatabase,
  createRedisPrefix,
  createTempDatabase,
  GATEWAY_SECRET,
  numFlag,
  parseFlags,
  percentile,
  REDIS_URL,
  runBench,
  sleep,
  spawnGateway,
  tempDir,
  type GatewayNode,
} from "./lib/services.js";

const flags = parseFlags(process.argv.slice(2));
const OWNERS = numFlag(flags, "owners", 20_000);
const VETS = numFlag(flags, "vets", 50);
const CONCURRENCY = numFlag(flags, "concurrency", 200);
const ASKERS = Math.min(OWNERS, numFlag(flags, "askers", 500));
const RATE = numFlag(flags, "rate", 50);
const DURATION_S = numFlag(flags, "duration", 10);

/** The node's resident set, from /proc (KB → bytes). */
function rssBytes(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) * 1024 : 0;
}

/** The node's used V8 heap, from its own /metrics (prom-client's default metrics). */
async function heapBytes(url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })).text();
  const m = /^nodejs_heap_size_used_bytes (\S+)$/m.exec(text);
  return m ? Number(m[1]) : 0;
}

/** Heap after a collection: the node is asked for nothing, so give its GC a moment. */
async function settledMemory(node: GatewayNode): Promise<{ rss: number; heap: number }> {
  await sleep(3000);
  return { rss: rssBytes(node.pid), heap: await heapBytes(node.url) };
}

/** An owner's app: the client SDK, with a token that does not expire during the bench. */
function ownerClient(url: string, token: string): OwnerClient {
  const fixed = { token, expires_at: new Date(Date.now() + 6 * 3_600_000).toISOString() };
  return createOwnerClient({ url, getToken: () => Promise.resolve(fixed), transports: ["websocket"] });
}

/** Resolves when the client is connected (true) or gave up (false). */
function whenConnected(c: OwnerClient): Promise<boolean> {
  return new Promise((resolve) => {
    const check = (s: string) => {
      if (s === "connected" || s === "unauthorized" || s === "disconnected") {
        off();
        resolve(s === "connected");
      }
    };
    const off = c.onStatus(check);
    check(c.status);
  });
}

/** The soft limit of open files of this process (the node it starts inherits it). */
function openFilesLimit(): number {
  const m = /Max open files\s+(\d+|unlimited)/.exec(readFileSync("/proc/self/limits", "utf8"));
  return !m || m[1] === "unlimited" ? Infinity : Number(m[1]);
}

async function main(): Promise<void> {
  // Each owner is a socket in this process and one in the node: both need a descriptor each.
  const fds = openFilesLimit();
  if (OWNERS + 500 > fds)
    throw new Error(
      `--owners ${OWNERS} needs more open files than this process may have (${fds}): raise ulimit -n or ask for fewer`,
    );
  console.log(
    `connections bench: node ${process.version}; ${OWNERS} owners, ${VETS} vets, ${CONCURRENCY} handshakes in flight`,
  );
  const db = await createTempDatabase("conn");
  const prefix = createRedisPrefix("conn");
  const t0 = performance.now();
  const database = await openDatabase({ url: db.url, poolSize: 10 });
  const repos = createRepositories(database);
  const tokens = new SocketTokens(GATEWAY_SECRET, 6 * 3600, systemClock);
  const app = await repos.apps.create({
    name: `benchconn${Date.now().toString(36)}`,
    secret: "bench-secret-0123456789",
  });
  const vetTokens: string[] = [];
  for (let i = 0; i < VETS; i++) {
    const vet = await repos.vets.create({
      email: `vet${i}@conn.test`,
      password: "bench-password-1",
      firstName: `Vet${i}`,
      lastName: "Bench",
    });
    vetTokens.push((await tokens.issueVetLogin(vet)).token);
  }
  const owners: Array<{ token: string; petId: number }> = [];
  for (let i = 0; i < OWNERS; i += 50) {
    owners.push(
      ...(await Promise.all(
        Array.from({ length: Math.min(50, OWNERS - i) }, async (_, k) => {
          const n = i + k;
          const { user, pet } = await repos.users.register(
            app.id,
            {
              email: `owner${n}@conn.test`,
              firstName: `Owner${n}`,
              lastName: "Bench",
              role: "users",
              emergencyFund: 0,
            },
            new Date(),
            { name: `Rex${n}`, species: "dog" },
          );
          return {
            token: (await tokens.issue({ kind: "user", appId: app.id, userId: user.id })).token,
            petId: pet!.id,
          };
        }),
      )),
    );
  }
  await database.close();
  await analyzeDatabase(db.url);
  console.log(`seeded ${VETS} vets and ${OWNERS} owners in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

  const env = {
    NODE_ENV: "production",
    LOG_LEVEL: "silent",
    DATABASE_URL: db.url,
    REDIS_URL,
    REDIS_KEY_PREFIX: prefix,
    GATEWAY_SECRET,
    ADMIN_TOKEN,
    WRAPUP_MS: "0",
    SOCKET_EVENTS_PER_S: "1000",
    DATA_DIR: tempDir("conn"),
  };
  let node = await spawnGateway({ name: "node", env });
  const port = Number(new URL(node.url).port);
  const before = await settledMemory(node);

  // 1. Idle owners.
  const sockets: OwnerClient[] = new Array<OwnerClient>(OWNERS);
  let failed = 0;
  const tc = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < OWNERS) {
        const i = next++;
        const s = ownerClient(node.url, owners[i].token);
        sockets[i] = s;
        if (!(await whenConnected(s))) failed++;
      }
    }),
  );
  const connectS = (performance.now() - tc) / 1000;
  const connected = sockets.filter((s) => s.status === "connected").length;
  console.log(
    `connect: ${connected} of ${OWNERS} owners in ${connectS.toFixed(1)} s = ${Math.round(connected / connectS)} connections/s` +
      `${failed ? ` (${failed} gave up)` : ""} — goal ≥ 2,000: ${connected / connectS >= 2000 ? "MET" : "MISSED"}`,
  );
  const after = await settledMemory(node);
  const rssPer = (after.rss - before.rss) / connected;
  const heapPer = (after.heap - before.heap) / connected;
  console.log(
    `memory: RSS ${(before.rss / 2 ** 20).toFixed(0)} → ${(after.rss / 2 ** 20).toFixed(0)} MB = ${(rssPer / 1024).toFixed(1)} KB per idle socket ` +
      `(heap ${(heapPer / 1024).toFixed(1)} KB) — goal ≤ 10 KB: ${rssPer <= 10 * 1024 ? "MET" : "MISSED"}`,
  );

  // 2. Matching with everyone connected.
  const vets: Socket[] = [];
  for (const token of vetTokens) {
    const v = io(node.url + "/vet", { auth: { token }, transports: ["websocket"], forceNew: true });
    await new Promise<void>((resolve) => v.once("connect", () => resolve()));
    v.on("consult:offer", (p: { consultation_id: string }) => {
      void ask(v, "consult:accept", { consultation_id: p.consultation_id }).then(() =>
        ask(v, "consult:end", { consultation_id: p.consultation_id }),
      );
    });
    await ask(v, "presence:set", { status: "available" });
    vets.push(v);
  }
  const latencies: number[] = [];
  const waiting = new Map<string, number>();
  for (let i = 0; i < ASKERS; i++) {
    sockets[i].on("consult:matched", (p) => {
      const t = waiting.get(p.consultation_id);
      if (t !== undefined) latencies.push(performance.now() - t);
      waiting.delete(p.consultation_id);
    });
  }
  const idle = Array.from({ length: ASKERS }, (_, i) => i);
  for (let i = 0; i < ASKERS; i++) sockets[i].on("consult:ended", () => idle.push(i));
  const tm = performance.now();
  let asked = 0;
  while (performance.now() - tm < DURATION_S * 1000) {
    const due = Math.floor(((performance.now() - tm) / 1000) * RATE);
    while (asked < due && idle.length > 0) {
      const i = idle.shift()!;
      asked++;
      const t = performance.now();
      sockets[i].request({ conversation_request: "chat", pet_id: owners[i].petId }).then(
        (r) => void waiting.set(r.consultation_id, t),
        () => void idle.push(i),
      );
    }
    await sleep(5);
  }
  await sleep(2000);
  latencies.sort((a, b) => a - b);
  const p99 = percentile(latencies, 99);
  console.log(
    `match with ${connected} owners connected, ${RATE}/s for ${DURATION_S} s: ${latencies.length} matched of ${asked}, ` +
      `p50 ${percentile(latencies, 50).toFixed(1)} ms p99 ${p99.toFixed(1)} ms — goal p99 < 25 ms: ${p99 < 25 && latencies.length === asked ? "MET" : "MISSED"}`,
  );
  for (const v of vets) v.disconnect();

  // 3. Kill, restart on the same port, count the owners back.
  const back = () => sockets.reduce((n, s) => n + (s.status === "connected" ? 1 : 0), 0);
  const tk = performance.now();
  node.child.kill("SIGKILL");
  await new Promise((r) => node.child.once("exit", r));
  node = await spawnGateway({ name: "node", env, port });
  const upS = (performance.now() - tk) / 1000;
  let all = -1;
  while (performance.now() - tk < 120_000) {
    if (back() === connected) {
      all = (performance.now() - tk) / 1000;
      break;
    }
    await sleep(100);
  }
  console.log(
    all < 0
      ? `storm: node up ${upS.toFixed(1)} s after the kill; ${back()} of ${connected} back after 120 s — goal all within 15 s: MISSED`
      : `storm: node up ${upS.toFixed(1)} s after the kill; all ${connected} back ${all.toFixed(1)} s after it — goal ≤ 15 s: ${all <= 15 ? "MET" : "MISSED"}`,
  );
  for (const s of sockets) s?.close();
  await node.stop();
}

void runBench(main);
