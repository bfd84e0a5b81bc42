/**
 * REST throughput and latency of the partner v2 API: `npx tsx bench/rest.ts`.
 *
 * One gateway node runs as a child process (`node dist/main.js`, LOG_LEVEL=silent,
 * RATE_LIMIT_PER_MIN far above the load so the limiter counts but never rejects) on a fresh
 * PostgreSQL database (no Redis: single node). The app is created through the admin API and
 * the owners through `register-user` + `pet/add`. autocannon runs in this process, so the
 * load generator and the gateway each have a core of the two.
 *
 *   1. `POST /api/v2/{name}/register-user`, a unique email per request (and a first pet)
 *   2. `GET  /api/v2/{name}/pet/list?email=…`, round-robin over the seeded owners (3 pets each)
 *
 * Each: a warm-up (not counted), then the measured run; requests/s, p50/p99 latency and
 * non-2xx counts are printed. Goal: pet/list ≥ 2,000 req/s with p99 < 20 ms.
 *
 * Flags (defaults): --connections 10 --duration 10 --warmup 2 --owners 200
 *   --only register-user|pet-list (one endpoint)  --profile [DIR] (--cpu-prof on the gateway, summarised)
 *   --baseline (also GET /healthz and GET media-url: the HTTP floor without and with the v2 pipeline)
 * The database and the data directory are removed at the end, and the child is stopped.
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import autocannon from "autocannon";
import { summariseProfile } from "./lib/profile.js";
import {
  ADMIN_TOKEN,
  CpuMeter,
  GATEWAY_SECRET,
  backgroundLoad,
  basicAuth,
  createTempDatabase,
  formatCpu,
  http,
  mainThreadProfile,
  numFlag,
  parseFlags,
  runBench,
  spawnGateway,
  tempDir,
  type GatewayNode,
} from "./lib/services.js";

const flags = parseFlags(process.argv.slice(2));
const CONNECTIONS = numFlag(flags, "connections", 10);
const DURATION_S = numFlag(flags, "duration", 10);
const WARMUP_S = numFlag(flags, "warmup", 2);
const OWNERS = numFlag(flags, "owners", 200);
const PROFILE = flags.has("profile");
const ONLY = flags.get("only");
const BASELINE = flags.has("baseline");
if (ONLY !== undefined && ONLY !== "register-user" && ONLY !== "pet-list")
  throw new Error("--only takes register-user or pet-list");
const PETS_PER_OWNER = 3;

interface Target {
  name: string;
  method: "GET" | "POST";
  /** Builds each request (a fresh body or query per call). */
  next(): { path: string; body?: string };
  headers: Record<string, string>;
}

interface Measured {
  reqPerS: number;
  p50: number;
  p99: number;
  max: number;
  total: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  codes: string;
  cpu: Record<string, number>;
}

async function load(url: string, t: Target, seconds: number, pids: Record<string, number>): Promise<Measured> {
  const cpu = new CpuMeter(pids);
  const result = await autocannon({
    url,
    connections: CONNECTIONS,
    duration: seconds,
    timeout: 10,
    requests: [
      {
        method: t.method,
        headers: t.headers,
        setupRequest: (req) => {
          const n = t.next();
          return { ...req, path: n.path, ...(n.body !== undefined ? { body: n.body } : {}) };
        },
      },
    ],
  });
  const cpuRead = cpu.read();
  const codes = Object.entries(result.statusCodeStats ?? {})
    .map(([code, s]) => `${code}: ${s.count ?? 0}`)
    .join(", ");
  return {
    reqPerS: result.requests.total / result.duration,
    p50: result.latency.p50,
    p99: result.latency.p99,
    max: result.latency.max,
    total: result.requests.total,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    codes,
    cpu: cpuRead,
  };
}

function print(name: string, m: Measured): void {
  console.log(
    `${name.padEnd(28)} ${Math.round(m.reqPerS).toLocaleString("en-US").padStart(6)} req/s   p50 ${m.p50.toFixed(1)} ms   ` +
      `p99 ${m.p99.toFixed(1)} ms   max ${m.max.toFixed(1)} ms   ${m.total} requests, non-2xx ${m.non2xx}, errors ${m.errors}, timeouts ${m.timeouts}`,
  );
  console.log(`${"".padEnd(28)} status codes: ${m.codes || "-"};  cpu (% of one core): ${formatCpu(m.cpu)}`);
}

async function main(): Promise<void> {
  const cores = os.cpus().length;
  console.log(`rest bench: node ${process.version}, ${cores} cores (${os.cpus()[0]?.model ?? "?"})`);
  console.log(`autocannon: ${CONNECTIONS} connections, ${WARMUP_S} s warm-up + ${DURATION_S} s measured per endpoint`);
  console.log(`machine busy before start (other processes): ${await backgroundLoad()}% of ${cores} cores`);

  const db = await createTempDatabase("rest");
  const profileArg = flags.get("profile");
  const profileDir = PROFILE
    ? profileArg && profileArg !== "true"
      ? path.resolve(profileArg)
      : mkdtempSync(path.join(os.tmpdir(), "vcg-rest-prof-"))
    : undefined;
  let node: GatewayNode | null = null;
  try {
    node = await spawnGateway({
      name: "gateway",
      env: {
        NODE_ENV: "production",
        LOG_LEVEL: "silent",
        DATABASE_URL: db.url,
        GATEWAY_SECRET,
        ADMIN_TOKEN,
        RATE_LIMIT_PER_MIN: "1000000000",
        DATA_DIR: tempDir("rest"),
      },
      cpuProfDir: profileDir,
    });
    console.log(
      `gateway (child process, node dist/main.js${profileDir ? " --cpu-prof" : ""}): pid ${node.pid}, database ${db.name}`,
    );
    const pids = { gateway: node.pid };

    // The app through the admin API, the owners through the partner API.
    const appName = `benchrest${randomBytes(3).toString("hex")}`;
    const secret = "bench-secret-0123456789abcdef";
    await http(`${node.url}/admin/v1/apps`, {
      body: { name: appName, secret },
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    });
    const auth = { authorization: basicAuth(appName, secret) };
    const base = `${node.url}/api/v2/${appName}`;
    const emails: string[] = [];
    const runId = randomBytes(3).toString("hex");
    for (let i = 0; i < OWNERS; i += 20) {
      await Promise.all(
        Array.from({ length: Math.min(20, OWNERS - i) }, async (_, k) => {
          const email = `owner${i + k}-${runId}@bench.test`;
          const r = await http(`${base}/register-user`, {
            body: {
              first_name: `Owner${i + k}`,
              last_name: "Bench",
              email,
              role: "users",
              pet: { name: "Rex", species: "dog" },
            },
            headers: auth,
          });
          if (!r.data?.socket_token?.token)
            throw new Error(`register-user answered without socket_token: ${JSON.stringify(r).slice(0, 200)}`);
          for (let p = 1; p < PETS_PER_OWNER; p++) {
            await http(`${base}/pet/add`, {
              body: { email, name: `Pet${p}`, species: "cat", breed: "Siamese", age: "2 years" },
              headers: auth,
            });
          }
          emails.push(email);
        }),
      );
    }
    const check = await http(`${base}/pet/list?email=${encodeURIComponent(emails[0])}`, { headers: auth });
    if (check.data?.list?.length !== PETS_PER_OWNER)
      throw new Error(`pet/list sanity check failed: ${JSON.stringify(check).slice(0, 300)}`);
    console.log(`seeded app ${appName}: ${OWNERS} owners with ${PETS_PER_OWNER} pets each (register-user + pet/add)\n`);

    let regCounter = 0;
    const register: Target = {
      name: "POST register-user",
      method: "POST",
      headers: { ...auth, "content-type": "application/json", accept: "application/json" },
      next: () => {
        const n = regCounter++;
        return {
          path: `/api/v2/${appName}/register-user`,
          body: JSON.stringify({
            first_name: "Load",
            last_name: `User${n}`,
            email: `load-${runId}-${n}@bench.test`,
            role: "users",
            dev_type: "android",
            pet: { name: "Rex", species: "dog" },
          }),
        };
      },
    };
    let listCounter = 0;
    const list: Target = {
      name: "GET pet/list",
      method: "GET",
      headers: { ...auth, accept: "application/json" },
      next: () => ({
        path: `/api/v2/${appName}/pet/list?email=${encodeURIComponent(emails[listCounter++ % emails.length])}`,
      }),
    };

    const results: Array<[string, Measured]> = [];
    const baselines: Target[] = [
      { name: "GET /healthz (floor)", method: "GET", headers: {}, next: () => ({ path: "/healthz" }) },
      {
        name: "GET media-url (v2, no db)",
        method: "GET",
        headers: {},
        next: () => ({ path: `/api/v2/${appName}/media-url` }),
      },
    ];
    const targets = [
      ...(BASELINE ? baselines : []),
      ...(ONLY === "register-user" ? [register] : ONLY === "pet-list" ? [list] : [register, list]),
    ];
    for (const t of targets) {
      if (WARMUP_S > 0) await load(node.url, t, WARMUP_S, pids);
      const m = await load(node.url, t, DURATION_S, pids);
      print(t.name, m);
      results.push([t.name, m]);
    }
    const pl = results.find(([n]) => n === "GET pet/list")?.[1];
    if (pl) {
      const ok = pl.reqPerS >= 2000 && pl.p99 < 20 && pl.non2xx === 0 && pl.errors === 0;
      console.log(
        `\ngoal pet/list ≥ 2,000 req/s with p99 < 20 ms: ${ok ? "MET" : "MISSED"} ` +
          `(${Math.round(pl.reqPerS).toLocaleString("en-US")} req/s, p99 ${pl.p99.toFixed(1)} ms)`,
      );
    }
    if (regCounter > 0)
      console.log(`register-user created ${regCounter.toLocaleString("en-US")} owners (warm-up included)`);
  } finally {
    if (node) {
      const code = await node.stop();
      if (code !== 0) console.error(`gateway exited with code ${String(code)}`);
    }
  }
  if (profileDir && node) {
    console.log(`\n${summariseProfile(mainThreadProfile(profileDir, node.name)).text}`);
    console.log(
      `\nprofile kept in ${profileDir} (Chrome DevTools → Performance → Load profile, or npx tsx bench/lib/profile.ts FILE)`,
    );
  }
}

await runBench(main);
