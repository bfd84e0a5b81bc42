/**
 * Match latency and sustained request rate across two gateway nodes: `npx tsx bench/match.ts`.
 *
 * Setup: a fresh PostgreSQL database and a unique Redis prefix; one app, N vets and M owners
 * (one pet each) are seeded straight through the repositories in this process, which also
 * runs the migrations. Then two gateway nodes start as child processes
 * (`node dist/main.js`, LOG_LEVEL=silent, WRAPUP_MS=0) on that database and Redis.
 * This process holds every socket.io client: the N vet consoles, split over the two nodes,
 * accept each offer at once and end the consultation right after; the M owners (split too)
 * request at an overall rate R, each again once its last consultation ended.
 *
 * Planner statistics are gathered after seeding and again halfway through the warm-up (see analyzeDatabase).
 *
 * Match latency = an owner's `consult:request` emit → that owner receiving `consult:matched`.
 * Phases: a warm-up, the main run at R, then a search that steps the rate up while the
 * gateway keeps up (every request matched, backlog not growing); a step "holds" when it
 * also has p99 < the limit. Between phases the gateway must settle (no open consultation).
 * Also: Twilio access tokens minted per second by the gateway's issuer.
 *
 * `--mixed` (PROTOCOL §4 routing skills): vets treat different species (every species; dog and
 * cat; dog; cat; dog, cat and rabbit), a quarter also speak Spanish, a third hold two chats;
 * pets are dogs, cats and rabbits; one owner in ten has a subscribed protection plan, half of
 * them asking as emergencies; one request in ten asks for Spanish.
 *
 * `--licensed` (PROTOCOL §4 licensing, nodes run with LICENSING=on): ten regions; vet `i` is
 * licensed in one to three of them (every region has a vet); each owner lives in one region
 * and asks for treatment there, except one in ten who asks for advice (any vet). With
 * `--mixed` it is the issue's licensed traffic; run `--mixed` alone in the same hour to see
 * what the licence check costs.
 *
 * `--backlog N` (a surge left waiting): before the warm-up, N more owners ask for an iguana, which
 * no vet treats (every vet's species are narrowed to dog, cat and rabbit), and leave (their
 * grace and queue timeout are an hour): N requests wait at the head of the queue for the whole
 * run, and every routing pass and claim has to look past them.
 *
 * `--surge N` (a surge to drain): before any vet connects, N more owners ask for a dog and leave;
 * then the vets connect and the bench times how long until all N are matched and ended.
 *
 * `--webhooks` (PROTOCOL §9; `bench/webhooks.ts` runs it): after the main run, the app gets a
 * webhook URL on a receiver in this process that answers each delivery after 20 ms, and the
 * main run is repeated. Prints delivery latency (event → received) p50/p99, the outbox's peak
 * backlog, how long after the last request the outbox was empty, and the match p99 with
 * webhooks on against off. The nodes then run with NODE_ENV=development (a plain-http
 * receiver on 127.0.0.1 is refused in production) and WEBHOOK_ALLOW_PRIVATE=true.
 *
 * Flags (defaults): --vets 20 --users 400 --rate 200 --duration 10 --warmup 10 --warmup-rate (= --rate) --mixed --licensed --backlog 0 --surge 0
 *   --steps 10,20,30,40,50,75,100,150,200,300,400,600,800 --step-seconds 5 --p99-limit 25
 *   --token-seconds 2 --no-search --profile [DIR]  (--cpu-prof on both nodes, summarised at the end)
 * Everything is torn down at the end (children stopped, database dropped, Redis keys deleted)
 * and checked; the exit code is 0 when the run completed and nothing was left behind.
 */
import { mkdtempSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { monitorEventLoopDelay } from "node:perf_hooks";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import type { Socket } from "socket.io-client";
import { SocketTokens } from "../src/auth/socket-tokens.js";
import { loadConfig } from "../src/config.js";
import { openDatabase } from "../src/db/database.js";
import { systemClock } from "../src/lib/clock.js";
import { createRepositories } from "../src/repositories/index.js";
import { createAccessTokenIssuer } from "../src/twilio/access-tokens.js";
import { summariseProfile } from "./lib/profile.js";
import { ask as askWith, openSocket, type Envelope } from "./lib/sockets.js";
import {
  ADMIN_TOKEN,
  analyzeDatabase,
  CpuMeter,
  GATEWAY_SECRET,
  REDIS_URL,
  backgroundLoad,
  createRedisPrefix,
  createTempDatabase,
  databaseCounters,
  formatCpu,
  http,
  mainThreadProfile,
  numFlag,
  parseFlags,
  percentile,
  runBench,
  sleep,
  spawnGateway,
  tempDir,
  type GatewayNode,
} from "./lib/services.js";

const flags = parseFlags(process.argv.slice(2));
const VETS = numFlag(flags, "vets", 20);
const USERS = numFlag(flags, "users", 400);
const RATE = numFlag(flags, "rate", 200);
const DURATION_S = numFlag(flags, "duration", 10);
// At the main rate and long enough for the JIT, the connection pools and PostgreSQL to
// reach a steady state: after 4 s at 100/s the gateways still used a third more CPU per
// match in the first 10 s at 200/s than in later steps at the same rate.
const WARMUP_S = numFlag(flags, "warmup", 10);
const WARMUP_RATE = numFlag(flags, "warmup-rate", RATE);
const STEP_S = numFlag(flags, "step-seconds", 5);
const P99_LIMIT = numFlag(flags, "p99-limit", 25);
const TOKEN_S = numFlag(flags, "token-seconds", 2);
const STEPS = (flags.get("steps") ?? "10,20,30,40,50,75,100,150,200,300,400,600,800").split(",").map(Number);
const SEARCH = !flags.has("no-search");
const PROFILE = flags.has("profile");
const MIXED = flags.has("mixed");
const LICENSED = flags.has("licensed");
const BACKLOG = numFlag(flags, "backlog", 0);
const SURGE = numFlag(flags, "surge", 0);
const WEBHOOKS = flags.has("webhooks");
/** How long the bench's webhook receiver takes to answer. */
const RECEIVER_MS = numFlag(flags, "receiver-ms", 20);
/** `--backlog`: species no vet treats, and what every vet treats instead of "all". */
const BACKLOG_SPECIES = "iguana";
const TREATED = ["dog", "cat", "rabbit"];

/** `--mixed`: the routing attributes of vet `i`. */
function mixedVet(i: number): { species: string[]; languages: string[]; maxChats: number | null } {
  const species = [[], ["dog", "cat"], ["dog"], ["cat"], ["dog", "cat", "rabbit"]][i % 5];
  return { species, languages: i % 4 === 0 ? ["en", "es"] : ["en"], maxChats: i % 3 === 0 ? 2 : null };
}

/** `--mixed`: owner `n`'s pet species, plan and what they ask for. */
function mixedOwner(n: number): {
  species: string;
  protectedOwner: boolean;
  ask: { language?: string; emergency?: boolean };
} {
  const protectedOwner = n % 10 === 0;
  return {
    species: ["dog", "cat", "dog", "rabbit", "cat"][n % 5],
    protectedOwner,
    ask: {
      ...(n % 10 === 1 ? { language: "es" } : {}),
      ...(protectedOwner && n % 20 === 0 ? { emergency: true } : {}),
    },
  };
}
/** `--licensed`: ten regions, in four countries. */
const REGIONS = ["US-CA", "US-NY", "US-TX", "GB-ENG", "GB-SCT", "DE-BY", "DE-BE", "IT-RM", "ES-MD", "CA-ON"];

/**
 * `--licensed`: vet `i`'s licences, one to three regions (vets 0–9 cover every region); with
 * `--mixed`, a vet of every species holds three, so each owner's species and region has 2–6
 * vets who may treat it.
 */
function licensedVet(i: number): { licenses: string[] } {
  const three = [REGIONS[i % 10], REGIONS[(i + 3) % 10], REGIONS[(i + 7) % 10]];
  return { licenses: MIXED && mixedVet(i).species.length === 0 ? three : three.slice(0, 1 + (i % 3)) };
}

/** `--licensed`: what owner `n` asks: treatment in their region, or (one in ten) advice. */
function licensedAsk(n: number): Owner["ask"] {
  return { region: REGIONS[n % 10], ...(n % 10 === 9 ? { care: "advice" as const } : {}) };
}

/** How long a phase waits, after its last request, for its consultations to be matched. */
const DRAIN_MS = 5_000;
/** How long the gateway may take to empty its queue between phases. */
const SETTLE_MS = 60_000;
const ACK_TIMEOUT_MS = 10_000;

// ------------------------------------------------------------------ token minting

/** `ctx.accessTokens.mint({identity})` (the same issuer the gateway builds) in a tight loop. */
function tokensPerSecond(seconds: number): number {
  const issuer = createAccessTokenIssuer(
    { ...loadConfig({ NODE_ENV: "development" }).twilio, apiSecret: GATEWAY_SECRET },
    systemClock,
  );
  const ids = Array.from({ length: 64 }, (_, i) => `local-app-1_user-${i + 1}`);
  const run = (ms: number) => {
    let n = 0;
    let sink = 0; // keeps the result observable
    const start = performance.now();
    while (performance.now() < start + ms) {
      for (let i = 0; i < 200; i++) sink += issuer.mint({ identity: ids[(n + i) & 63] }).token.length;
      n += 200;
    }
    if (sink === 0) throw new Error("unreachable");
    return Math.round((n * 1000) / (performance.now() - start));
  };
  run(200); // warm-up: JIT and key import
  return run(seconds * 1000);
}

// ------------------------------------------------------------------ clients

const ask = (socket: Socket, event: string, payload: unknown) => askWith(socket, event, payload, ACK_TIMEOUT_MS);

/** Vet-side failures over the whole run. */
const vetErrors = { accept: 0, end: 0, revoked: 0 };

/** When each offer reached its vet (performance.now(); every client lives in this process). */
const offerSeenAt = new Map<string, number>();

/** A vet console: accepts every offer at once and ends the consultation as soon as it is accepted. */
async function startVet(url: string, token: string): Promise<Socket> {
  const socket = await openSocket(url, "/vet", token);
  socket.on("consult:offer", (offer: { consultation_id: string }) => {
    offerSeenAt.set(offer.consultation_id, performance.now());
    void (async () => {
      try {
        const a = await ask(socket, "consult:accept", { consultation_id: offer.consultation_id });
        if (!a.success) {
          vetErrors.accept++;
          return;
        }
        const e = await ask(socket, "consult:end", { consultation_id: offer.consultation_id });
        if (!e.success) vetErrors.end++;
      } catch {
        vetErrors.accept++;
      }
    })();
  });
  socket.on("consult:offer_revoked", () => vetErrors.revoked++);
  const r = await ask(socket, "presence:set", { status: "available" });
  if (!r.success) throw new Error(`presence:set failed: ${JSON.stringify(r)}`);
  return socket;
}

/** Counters of one phase; an owner's late events still count towards the phase it requested in. */
interface Phase {
  issued: number;
  matched: number;
  failedRequests: number;
  errors: number;
  errorKinds: Map<string, number>;
  latencies: number[];
  /** The two halves of each match: request → offer at the vet, offer at the vet → matched. */
  toOffer: number[];
  offerToMatched: number[];
}

interface Owner {
  socket: Socket;
  petId: number;
  /** Extra `consult:request` fields (`--mixed`). */
  ask: { language?: string; emergency?: boolean; region?: string; care?: "treatment" | "advice" };
  /** When the open request was emitted (performance.now()), or null when idle. */
  t0: number | null;
  matched: boolean;
  phase: Phase | null;
}

/** Owners with no open consultation, ready to request. */
const idle: Owner[] = [];

function phaseError(p: Phase, kind: string): void {
  p.errors++;
  p.errorKinds.set(kind, (p.errorKinds.get(kind) ?? 0) + 1);
}

function release(o: Owner): void {
  o.t0 = null;
  o.matched = false;
  o.phase = null;
  idle.push(o);
}

async function startOwner(url: string, token: string, petId: number, ask: Owner["ask"]): Promise<Owner> {
  const socket = await openSocket(url, "/user", token);
  const o: Owner = { socket, petId, ask, t0: null, matched: false, phase: null };
  socket.on("consult:matched", (m: { consultation_id: string }) => {
    if (o.t0 === null || o.matched || !o.phase) return;
    const now = performance.now();
    o.matched = true;
    o.phase.matched++;
    o.phase.latencies.push(now - o.t0);
    const offered = offerSeenAt.get(m.consultation_id);
    offerSeenAt.delete(m.consultation_id);
    if (offered !== undefined) {
      o.phase.toOffer.push(offered - o.t0);
      o.phase.offerToMatched.push(now - offered);
    }
  });
  socket.on("consult:ended", () => {
    if (o.t0 === null || !o.phase) return;
    if (!o.matched) phaseError(o.phase, "ended before matched");
    release(o);
  });
  socket.on("consult:expired", () => {
    if (o.t0 === null || !o.phase) return;
    phaseError(o.phase, "expired");
    release(o);
  });
  return o;
}

function request(o: Owner, p: Phase): void {
  o.t0 = performance.now();
  o.matched = false;
  o.phase = p;
  p.issued++;
  o.socket
    .timeout(ACK_TIMEOUT_MS)
    .emitWithAck("consult:request", { conversation_request: "chat", pet_id: o.petId, ...o.ask })
    .then((env: Envelope) => {
      if (env.success) return;
      p.failedRequests++;
      phaseError(p, `request ${env.status_code} ${env.message[0] ?? ""}`);
      if (o.phase === p && !o.matched) release(o);
    })
    .catch(() => phaseError(p, "request ack timeout"));
}

// ------------------------------------------------------------------ phases

interface PhaseResult {
  /** Longest event-loop stall (ms) seen in the bench process and in each gateway node. */
  stalls: Record<string, number>;
  /** GC pauses in each gateway node during the phase. */
  gc: Record<string, string>;
  rate: number;
  seconds: number;
  issued: number;
  target: number;
  matched: number;
  /** Matches that happened while requests were being issued (the throughput under this load). */
  matchedInWindow: number;
  unmatched: number;
  errors: number;
  errorKinds: Map<string, number>;
  p50: number;
  p99: number;
  max: number;
  /** p50/p99 of the halves: request → offer at the vet, offer → matched (accept, record, notify). */
  split: { toOffer: [number, number]; offerToMatched: [number, number] };
  /** Requests emitted but not yet matched, sampled once a second. */
  backlog: number[];
  backlogGrowing: boolean;
  cpu: Record<string, number>;
  /** Seconds the gateway took afterwards to have no open consultation (NaN: it did not). */
  settleS: number;
}

/** Base URLs of the gateway nodes, once started. */
let nodeUrls: string[] = [];

/** A node's runtime figures from its /metrics: the longest stall since the last scrape and GC totals. */
interface NodeRuntime {
  stallMs: number;
  /** Cumulative GC pauses by kind (minor, major, incremental, weakcb): count and total ms. */
  gc: Map<string, { count: number; ms: number }>;
  heapMb: number;
}

async function nodeRuntime(url: string): Promise<NodeRuntime> {
  const text = await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } }).then((r) =>
    r.text(),
  );
  // prom-client resets nodejs_eventloop_lag_max_seconds on each scrape.
  const m = /^nodejs_eventloop_lag_max_seconds\s+([\d.e+-]+)/m.exec(text);
  const gc = new Map<string, { count: number; ms: number }>();
  for (const g of text.matchAll(/^nodejs_gc_duration_seconds_(sum|count)\{kind="(\w+)"\}\s+([\d.e+-]+)/gm)) {
    const entry = gc.get(g[2]) ?? { count: 0, ms: 0 };
    if (g[1] === "sum") entry.ms = Number(g[3]) * 1000;
    else entry.count = Number(g[3]);
    gc.set(g[2], entry);
  }
  const heap = /^nodejs_heap_size_used_bytes\s+([\d.e+-]+)/m.exec(text);
  return { stallMs: m ? Number(m[1]) * 1000 : NaN, gc, heapMb: heap ? Number(heap[1]) / 2 ** 20 : NaN };
}

/** GC pauses between two readings, e.g. "major 2× 31 ms, minor 140× 95 ms". */
function gcDelta(before: NodeRuntime, after: NodeRuntime): string {
  const parts: string[] = [];
  for (const [kind, a] of after.gc) {
    const b = before.gc.get(kind) ?? { count: 0, ms: 0 };
    if (a.count > b.count) parts.push(`${kind} ${a.count - b.count}× ${Math.round(a.ms - b.ms)} ms`);
  }
  return `${parts.join(", ") || "none"} (heap used ${Math.round(after.heapMb)} MB)`;
}

/** Issues `rate` requests a second for `seconds`, waits for them, then for the gateway to settle. */
async function runPhase(
  rate: number,
  seconds: number,
  pids: Record<string, number>,
  statsUrl: string,
): Promise<PhaseResult> {
  const p: Phase = {
    issued: 0,
    matched: 0,
    failedRequests: 0,
    errors: 0,
    errorKinds: new Map(),
    latencies: [],
    toOffer: [],
    offerToMatched: [],
  };
  // Event-loop stalls, here and in the nodes: a latency tail may come from either side.
  const loop = monitorEventLoopDelay({ resolution: 10 });
  loop.enable();
  const runtimeBefore = await Promise.all(nodeUrls.map(nodeRuntime));
  const backlog: number[] = [];
  const cpu = new CpuMeter(pids);
  const start = performance.now();
  const end = start + seconds * 1000;
  const sampler = setInterval(() => backlog.push(p.issued - p.matched - p.failedRequests), 1000);
  // Issue whatever is due by now; a 1 ms timer keeps bursts to a few requests per turn.
  await new Promise<void>((resolve) => {
    const turn = () => {
      const now = performance.now();
      const due = Math.floor(((Math.min(now, end) - start) * rate) / 1000);
      while (p.issued < due && idle.length > 0) request(idle.shift()!, p);
      if (now >= end) return resolve();
      setTimeout(turn, 1);
    };
    turn();
  });
  const cpuRead = cpu.read();
  loop.disable();
  const runtimeAfter = await Promise.all(nodeUrls.map(nodeRuntime));
  const stalls: Record<string, number> = { bench: loop.max / 1e6 };
  const gc: Record<string, string> = {};
  nodeUrls.forEach((_, i) => {
    const name = `node-${String.fromCharCode(97 + i)}`;
    stalls[name] = runtimeAfter[i].stallMs;
    gc[name] = gcDelta(runtimeBefore[i], runtimeAfter[i]);
  });
  const matchedInWindow = p.matched;
  clearInterval(sampler);
  const drainUntil = performance.now() + DRAIN_MS;
  while (p.matched + p.failedRequests < p.issued && performance.now() < drainUntil) await sleep(20);
  const lat = [...p.latencies].sort((a, b) => a - b);
  const unmatched = p.issued - p.matched - p.failedRequests;
  const settleS = await settle(statsUrl);
  const third = Math.max(1, Math.floor(backlog.length / 3));
  const avg = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0);
  return {
    stalls,
    gc,
    rate,
    seconds,
    issued: p.issued,
    target: Math.floor(seconds * rate),
    matched: lat.length,
    matchedInWindow,
    unmatched,
    errors: p.errors,
    errorKinds: p.errorKinds,
    p50: percentile(lat, 50),
    p99: percentile(lat, 99),
    max: lat.at(-1) ?? NaN,
    split: { toOffer: p50p99(p.toOffer), offerToMatched: p50p99(p.offerToMatched) },
    backlog,
    // Little's law: a steady backlog stays near rate × latency; a growing one climbs. Growing =
    // the last third of the step averages more than 200 ms worth of arrivals (at least 10)
    // above the first third.
    backlogGrowing:
      backlog.length >= 3 && avg(backlog.slice(-third)) - avg(backlog.slice(0, third)) > Math.max(10, rate * 0.2),
    cpu: cpuRead,
    settleS,
  };
}

function p50p99(xs: number[]): [number, number] {
  const sorted = [...xs].sort((a, b) => a - b);
  return [percentile(sorted, 50), percentile(sorted, 99)];
}

/** `--backlog`: each owner connects, asks, and leaves; its request stays queued. */
async function leaveBacklog(owners: Array<{ token: string; petId: number }>, urls: string[]): Promise<void> {
  for (let i = 0; i < owners.length; i += 50) {
    await Promise.all(
      owners.slice(i, i + 50).map(async (o, k) => {
        const socket = await openSocket(urls[(i + k) % urls.length], "/user", o.token);
        try {
          const r = await askWith(socket, "consult:request", { conversation_request: "chat", pet_id: o.petId });
          if (r.status_code !== 200 || r.data?.status !== "queued")
            throw new Error(`backlog request: ${JSON.stringify(r)}`);
        } finally {
          socket.disconnect();
        }
      }),
    );
  }
}

/** Waits until every owner is idle and the gateway reports no open consultation (but the backlog). */
async function settle(statsUrl: string): Promise<number> {
  const t = performance.now();
  while (performance.now() - t < SETTLE_MS) {
    if (idle.length === USERS) {
      const s = await http(statsUrl, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
      if (s.data.open_consultations === BACKLOG) return (performance.now() - t) / 1000;
    }
    await sleep(100);
  }
  return NaN;
}

const ms = (x: number) => (Number.isFinite(x) ? `${x.toFixed(1)} ms` : "n/a");

/** Whether the gateway kept up with the rate, and whether it also met the latency limit. */
function verdict(r: PhaseResult): { keptUp: boolean; held: boolean; why: string[] } {
  const why: string[] = [];
  if (r.errors > 0) why.push(`${r.errors} errors`);
  if (r.unmatched > 0) why.push(`${r.unmatched} requests still unmatched ${DRAIN_MS / 1000} s after the last one`);
  if (r.issued < 0.95 * r.target) why.push(`only ${r.issued}/${r.target} requests issued (every owner was waiting)`);
  if (r.backlogGrowing) why.push(`backlog grew (${r.backlog.join(" → ")})`);
  const keptUp = why.length === 0;
  if (!(r.p99 < P99_LIMIT)) why.push(`p99 ${ms(r.p99)} ≥ ${P99_LIMIT} ms`);
  return { keptUp, held: why.length === 0, why };
}

function printPhase(label: string, r: PhaseResult): void {
  const kinds = [...r.errorKinds].map(([k, v]) => `${k}: ${v}`).join("; ");
  console.log(
    `${label}: ${r.issued}/${r.target} requests in ${r.seconds} s (${Math.round(r.issued / r.seconds)}/s issued), ` +
      `matched ${r.matched}, errors ${r.errors}${kinds ? ` (${kinds})` : ""}, unmatched ${r.unmatched}`,
  );
  console.log(`  matches while issuing: ${r.matchedInWindow} (${Math.round(r.matchedInWindow / r.seconds)}/s)`);
  console.log(`  match latency  p50 ${ms(r.p50)}  p99 ${ms(r.p99)}  max ${ms(r.max)}  count ${r.matched}`);
  const { toOffer, offerToMatched } = r.split;
  console.log(
    `    request → offer at the vet p50 ${ms(toOffer[0])} p99 ${ms(toOffer[1])}; ` +
      `offer → matched (accept, record, notify) p50 ${ms(offerToMatched[0])} p99 ${ms(offerToMatched[1])}`,
  );
  console.log(`  backlog (emitted, not yet matched) each second: ${r.backlog.join(" ") || "-"}`);
  console.log(`  cpu (% of one core): ${formatCpu(r.cpu)}`);
  console.log(
    `  longest event-loop stall: ${Object.entries(r.stalls)
      .map(([k, v]) => `${k} ${ms(v)}`)
      .join(", ")}`,
  );
  console.log(
    `  gc pauses: ${Object.entries(r.gc)
      .map(([k, v]) => `${k} ${v}`)
      .join("; ")}`,
  );
  console.log(
    `  settled (no open consultation) ${Number.isFinite(r.settleS) ? `${r.settleS.toFixed(1)} s` : `NOT within ${SETTLE_MS / 1000} s`} after`,
  );
}

// ------------------------------------------------------------------ main

/** A partner's receiver in this process: answers every delivery after `RECEIVER_MS`. */
async function startReceiver(): Promise<{
  url: string;
  latencies: number[];
  count: () => number;
  close(): Promise<void>;
}> {
  const latencies: number[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as { timestamp: string };
      latencies.push(Date.now() - Date.parse(body.timestamp));
      setTimeout(() => res.writeHead(204).end(), RECEIVER_MS);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${String((server.address() as AddressInfo).port)}/hooks`,
    latencies,
    count: () => latencies.length,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** `--webhooks`: the main run again with the app's webhooks on, against the run without. */
async function webhookRun(
  off: PhaseResult,
  appId: number,
  dbUrl: string,
  pids: Record<string, number>,
  statsUrl: string,
  adminUrl: string,
): Promise<void> {
  const receiver = await startReceiver();
  const set = await http(`${adminUrl}/admin/v1/apps/${String(appId)}`, {
    method: "PATCH",
    headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    body: { webhook_url: receiver.url },
  });
  if (!set.success) throw new Error(`setting the webhook URL failed: ${JSON.stringify(set)}`);
  const c = new pg.Client({ connectionString: dbUrl });
  await c.connect();
  const pending = async () =>
    Number(
      (await c.query<{ n: string }>("select count(*) as n from webhook_outbox where status = 'pending'")).rows[0].n,
    );
  let peak = 0;
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      peak = Math.max(peak, await pending());
      await sleep(250);
    }
  })();
  try {
    console.log(`
webhooks on: receiver at ${receiver.url} answers after ${String(RECEIVER_MS)} ms`);
    const issuedAt = performance.now();
    const on = await runPhase(RATE, DURATION_S, pids, statsUrl);
    printPhase(`main run @ ${RATE}/s with webhooks`, on);
    const lastRequest = issuedAt + DURATION_S * 1000;
    let left = await pending();
    while (left > 0 && performance.now() - lastRequest < 120_000) {
      await sleep(100);
      left = await pending();
    }
    const emptyAfterS = (performance.now() - lastRequest) / 1000;
    sampling = false;
    await sampler;
    const lat = [...receiver.latencies].sort((a, b) => a - b);
    const failed = Number(
      (await c.query<{ n: string }>("select count(*) as n from webhook_outbox where status = 'failed'")).rows[0].n,
    );
    console.log(
      `  webhooks: ${receiver.count()} received (${failed} failed), delivery latency (event → received) p50 ${ms(percentile(lat, 50))}, ` +
        `p99 ${ms(percentile(lat, 99))}, max ${ms(lat.at(-1) ?? NaN)}; outbox peak backlog ${peak}; ` +
        (left === 0 ? `empty ${emptyAfterS.toFixed(1)} s after the last request` : `${left} still pending after 120 s`),
    );
    const ratio = on.p99 / off.p99;
    console.log(
      `  match p99 ${ms(off.p99)} without webhooks, ${ms(on.p99)} with (${ratio.toFixed(2)}×); ` +
        `goals: delivery p99 < 1 s ${percentile(lat, 99) < 1000 ? "MET" : "MISSED"}, backlog empty within 5 s ${left === 0 && emptyAfterS <= 5 ? "MET" : "MISSED"}, ` +
        `match p99 within 1.2× ${ratio <= 1.2 ? "MET" : "MISSED"}`,
    );
  } finally {
    sampling = false;
    await c.end();
    await receiver.close();
  }
}

async function main(): Promise<void> {
  const cores = os.cpus().length;
  console.log(`match bench: node ${process.version}, ${cores} cores (${os.cpus()[0]?.model ?? "?"})`);
  console.log(
    `vets ${VETS}, owners ${USERS}, main run ${RATE}/s for ${DURATION_S} s (after ${WARMUP_S} s warm-up at ${WARMUP_RATE}/s)`,
  );
  console.log(`machine busy before start (other processes): ${await backgroundLoad()}% of ${cores} cores`);

  // Tokens first, while nothing else of this bench runs.
  const tps = tokensPerSecond(TOKEN_S);
  console.log(
    `\naccess tokens, ctx.accessTokens.mint({identity}) (chat grant), one thread, ${TOKEN_S} s: ` +
      `${tps.toLocaleString("en-US")} tokens/s — goal ≥ 50,000: ${tps >= 50_000 ? "MET" : "MISSED"}`,
  );

  const db = await createTempDatabase("match");
  const redisPrefix = createRedisPrefix("match");
  const dataDir = tempDir("match");

  // Seed through the repositories (this also runs the migrations, once).
  const t0 = performance.now();
  const database = await openDatabase({ url: db.url, poolSize: 10 });
  const repos = createRepositories(database);
  const tokens = new SocketTokens(GATEWAY_SECRET, 6 * 3600, systemClock);
  const app = await repos.apps.create({
    name: `benchmatch${Date.now().toString(36)}`,
    secret: "bench-secret-0123456789",
  });
  const vetTokens: string[] = [];
  for (let i = 0; i < VETS; i++) {
    const vet = await repos.vets.create({
      email: `vet${i}@bench.test`,
      password: "bench-password-1",
      firstName: `Vet${i}`,
      lastName: "Bench",
      ...(MIXED ? mixedVet(i) : {}),
      ...(LICENSED ? licensedVet(i) : {}),
      // With a backlog nobody may treat its species: "every species" becomes the common ones.
      ...(BACKLOG > 0 && (!MIXED || mixedVet(i).species.length === 0) ? { species: TREATED } : {}),
    });
    vetTokens.push((await tokens.issueVetLogin(vet)).token);
  }
  const owners: Array<{ token: string; petId: number; ask: Owner["ask"] }> = [];
  for (let i = 0; i < USERS; i += 25) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(25, USERS - i) }, async (_, k) => {
        const n = i + k;
        const mix = MIXED ? mixedOwner(n) : null;
        const { user, pet } = await repos.users.register(
          app.id,
          {
            email: `owner${n}@bench.test`,
            firstName: `Owner${n}`,
            lastName: "Bench",
            ...(mix?.protectedOwner
              ? { role: "protect_users" as const, emergencyFund: 500 }
              : { role: "users" as const, emergencyFund: 0 }),
          },
          new Date(),
          { name: `Rex${n}`, species: mix?.species ?? "dog" },
        );
        const token = (await tokens.issue({ kind: "user", appId: app.id, userId: user.id })).token;
        return { token, petId: pet!.id, ask: { ...(mix?.ask ?? {}), ...(LICENSED ? licensedAsk(n) : {}) } };
      }),
    );
    owners.push(...batch);
  }
  /** Owners who ask once and leave (`--backlog`, `--surge`). */
  const leavingOwners = async (count: number, label: string, species: string) => {
    const out: Array<{ token: string; petId: number }> = [];
    for (let i = 0; i < count; i += 25) {
      const batch = await Promise.all(
        Array.from({ length: Math.min(25, count - i) }, async (_, k) => {
          const n = i + k;
          const { user, pet } = await repos.users.register(
            app.id,
            {
              email: `${label}${n}@bench.test`,
              firstName: `${label}${n}`,
              lastName: "Bench",
              role: "users" as const,
              emergencyFund: 0,
            },
            new Date(),
            { name: `${label}Pet${n}`, species },
          );
          return {
            token: (await tokens.issue({ kind: "user", appId: app.id, userId: user.id })).token,
            petId: pet!.id,
          };
        }),
      );
      out.push(...batch);
    }
    return out;
  };
  const backlogOwners = await leavingOwners(BACKLOG, "backlog", BACKLOG_SPECIES);
  const surgeOwners = await leavingOwners(SURGE, "surge", "dog");
  await database.close();
  await analyzeDatabase(db.url);
  console.log(
    `seeded 1 app, ${VETS} vets, ${USERS} owners with a pet in ${((performance.now() - t0) / 1000).toFixed(1)} s (database ${db.name})`,
  );

  const profileArg = flags.get("profile");
  const profileDir = PROFILE
    ? profileArg && profileArg !== "true"
      ? path.resolve(profileArg)
      : mkdtempSync(path.join(os.tmpdir(), "vcg-match-prof-"))
    : undefined;
  const env = {
    NODE_ENV: WEBHOOKS ? "development" : "production",
    ...(WEBHOOKS ? { WEBHOOK_ALLOW_PRIVATE: "true" } : {}),
    LOG_LEVEL: "silent",
    ...(LICENSED ? { LICENSING: "on" } : {}),
    DATABASE_URL: db.url,
    REDIS_URL,
    REDIS_KEY_PREFIX: redisPrefix,
    GATEWAY_SECRET,
    ADMIN_TOKEN,
    WRAPUP_MS: "0",
    // Each bench vet accepts and ends ~10 consultations a second, far beyond a person's pace
    // and the per-socket event limit (PROTOCOL §7) that protects real gateways.
    SOCKET_EVENTS_PER_S: "1000",
    DATA_DIR: dataDir,
    // The backlog's owners leave once asked: their requests must outlive the run.
    ...(BACKLOG > 0 || SURGE > 0 ? { USER_GRACE_MS: "3600000", QUEUE_TIMEOUT_MS: "3600000" } : {}),
  };
  const nodes: GatewayNode[] = [];
  for (const name of ["node-a", "node-b"]) nodes.push(await spawnGateway({ name, env, cpuProfDir: profileDir }));
  console.log(
    `gateway nodes (child processes, node dist/main.js${profileDir ? " --cpu-prof" : ""}): ` +
      nodes.map((n) => `${n.name} pid ${n.pid}`).join(", "),
  );
  const pids = Object.fromEntries(nodes.map((n) => [n.name, n.pid]));
  const statsUrl = `${nodes[0].url}/admin/v1/stats`;
  nodeUrls = nodes.map((n) => n.url);

  const sockets: Socket[] = [];
  let consultations = 0;
  try {
    if (SURGE > 0) {
      await leaveBacklog(
        surgeOwners,
        nodes.map((n) => n.url),
      );
      const t = performance.now();
      for (let i = 0; i < VETS; i++) sockets.push(await startVet(nodes[i % 2].url, vetTokens[i]));
      let open = SURGE;
      while (open > 0 && performance.now() - t < SETTLE_MS) {
        await sleep(50);
        open = (await http(statsUrl, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })).data
          .open_consultations as number;
      }
      const s = (performance.now() - t) / 1000;
      console.log(
        open > 0
          ? `surge: ${open} of ${SURGE} requests still open ${s.toFixed(1)} s after the vets connected`
          : `surge: ${SURGE} requests waiting before any vet connected, matched and ended ${s.toFixed(2)} s after the vets began to connect (${Math.round(SURGE / s)}/s)`,
      );
    } else for (let i = 0; i < VETS; i++) sockets.push(await startVet(nodes[i % 2].url, vetTokens[i]));
    for (let i = 0; i < USERS; i += 50) {
      const batch = await Promise.all(
        owners.slice(i, i + 50).map((o, k) => startOwner(nodes[(i + k) % 2].url, o.token, o.petId, o.ask)),
      );
      for (const o of batch) {
        sockets.push(o.socket);
        idle.push(o);
      }
    }
    // Shuffled, so an owner on either node may meet a vet on either node.
    for (let i = idle.length - 1; i > 0; i--) {
      const j = Math.floor(Math.random() * (i + 1));
      [idle[i], idle[j]] = [idle[j], idle[i]];
    }
    console.log(
      `connected ${VETS} vets and ${USERS} owners, half on each node; all clients live in this process (pid ${process.pid})`,
    );
    if (BACKLOG > 0) {
      const t = performance.now();
      await leaveBacklog(
        backlogOwners,
        nodes.map((n) => n.url),
      );
      console.log(
        `backlog: ${BACKLOG} requests for an ${BACKLOG_SPECIES} (no vet treats one) wait at the head of the queue ` +
          `(queued in ${((performance.now() - t) / 1000).toFixed(1)} s; their owners left)`,
      );
    }

    // Halfway through the warm-up, statistics for the consultation tables: they were empty at
    // the first ANALYZE, and plans cached since then scan them whole as they grow by 200 rows
    // a second. A database in service has them (autovacuum would analyze about a minute in,
    // at a moment that differed from run to run). Halfway, so that the nodes' re-planning of
    // every cached statement falls in the warm-up, not at the start of the main run.
    if (WARMUP_S > 0) {
      const half = Math.ceil(WARMUP_S / 2);
      consultations += (await runPhase(WARMUP_RATE, half, pids, statsUrl)).matched;
      await analyzeDatabase(db.url);
      if (WARMUP_S > half) consultations += (await runPhase(WARMUP_RATE, WARMUP_S - half, pids, statsUrl)).matched;
    }

    console.log("");
    const main = await runPhase(RATE, DURATION_S, pids, statsUrl);
    consultations += main.matched;
    printPhase(`main run @ ${RATE}/s`, main);
    const v = verdict(main);
    console.log(`  goal p99 < ${P99_LIMIT} ms at ${RATE}/s: ${v.held ? "MET" : `MISSED (${v.why.join("; ")})`}`);
    if (!Number.isFinite(main.settleS)) throw new Error("the gateway did not settle after the main run");
    if (WEBHOOKS) await webhookRun(main, app.id, db.url, pids, statsUrl, nodes[0].url);

    if (SEARCH) {
      console.log(
        `\nsustained-rate search, ${STEP_S} s per step: a step keeps up when every request is matched, the backlog does not grow ` +
          `and no error occurs; it holds when it also has p99 < ${P99_LIMIT} ms. Stops at the first step that does not keep up.`,
      );
      let held = 0;
      let keptUp: PhaseResult | null = null;
      let stop = "";
      for (const rate of STEPS) {
        const r = await runPhase(rate, STEP_S, pids, statsUrl);
        consultations += r.matched;
        printPhase(`step @ ${rate}/s`, r);
        const s = verdict(r);
        console.log(
          `  → ${s.held ? "held" : s.keptUp ? `kept up, but ${s.why.join("; ")}` : `did not keep up: ${s.why.join("; ")}`}`,
        );
        if (s.held) held = rate;
        if (s.keptUp) keptUp = r;
        else {
          stop = `${rate}/s`;
          break;
        }
        if (!Number.isFinite(r.settleS)) {
          stop = `${rate}/s (did not settle)`;
          break;
        }
      }
      console.log(
        `\nhighest rate that held (p99 < ${P99_LIMIT} ms, kept up): ${held > 0 ? `${held}/s` : "none of the steps"}`,
      );
      console.log(
        `highest rate the gateway kept up with: ${keptUp ? `${keptUp.rate}/s (p50 ${ms(keptUp.p50)}, p99 ${ms(keptUp.p99)})` : "none"}` +
          (stop
            ? `; first step that did not: ${stop}`
            : `; every step kept up, the ceiling is above ${STEPS.at(-1)}/s`),
      );
    }

    const stats = await http(statsUrl, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    console.log(`\nafter the run, /admin/v1/stats: ${JSON.stringify(stats.data)}`);
    console.log(
      `vet side: accept failures ${vetErrors.accept}, end failures ${vetErrors.end}, offers revoked ${vetErrors.revoked}`,
    );
  } finally {
    for (const s of sockets) s.disconnect();
    await sleep(200);
    for (const n of nodes) {
      const code = await n.stop();
      if (code !== 0) console.error(`${n.name} exited with code ${String(code)}`);
    }
  }

  // The history each consultation left (the nodes have exited, so the statistics are flushed).
  const counters = await databaseCounters(db.name);
  const c = new pg.Client({ connectionString: db.url });
  await c.connect();
  try {
    const q = async (sql: string) => Number((await c.query<{ n: string }>(sql)).rows[0].n);
    const total = await q("select count(*) as n from consultations");
    const events = await q("select count(*) as n from consultation_events");
    const offers = await q("select count(*) as n from offers");
    console.log(
      `database: ${total} consultations (${consultations} matched by the bench); per consultation ${(events / total).toFixed(1)} ` +
        `consultation_events rows, ${(offers / total).toFixed(1)} offers rows, ~${(counters.commits / total).toFixed(1)} committed ` +
        `transactions and ~${(counters.written / total).toFixed(1)} rows written (pg_stat_database, whole run incl. seeding)`,
    );
  } finally {
    await c.end();
  }

  if (profileDir) {
    for (const n of nodes) console.log(`\n${n.name}: ${summariseProfile(mainThreadProfile(profileDir, n.name)).text}`);
    console.log(
      `\nprofiles kept in ${profileDir} (Chrome DevTools → Performance → Load profile, or npx tsx bench/lib/profile.ts FILE)`,
    );
  }
}

await runBench(main);
