/**
 * The project's nginx configuration (`deploy/nginx/gateway.conf`, issue 26) in front of two
 * gateway nodes on one Redis and one PostgreSQL: Debian's nginx, started here with that file
 * (only the upstream addresses and the port changed). A whole consultation over long-polling
 * and over WebSocket; a node stopped behind nginx sends its clients to the other; a rolling
 * restart of both nodes under steady traffic loses nothing.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createOwnerClient, createVetClient, type OwnerClient, type VetClient } from "../../src/client/index.js";
import { loadConfig, type Config } from "../../src/config.js";
import { createLogger } from "../../src/lib/logger.js";
import { buildGateway, type Gateway } from "../../src/server.js";
import { seedApp, seedUser, seedVet, TestClient } from "../support/actors.js";
import { request, TEST_ADMIN_TOKEN, testEnv } from "../support/gateway.js";
import { createTestDatabase, REDIS_URL, uniqueRedisPrefix, type TestDatabase } from "../support/services.js";

const NGINX = "/usr/sbin/nginx";
const CONF = path.resolve(import.meta.dirname, "../../deploy/nginx/gateway.conf");
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer().listen(0, "127.0.0.1", () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
    s.on("error", reject);
  });
}

/** The deploy file with this test's upstreams and port, inside a minimal nginx.conf. */
function nginxConf(dir: string, listen: number, upstreams: number[]): string {
  const site = readFileSync(CONF, "utf8")
    .replace(/^\s*server gateway-\d+:3000 .*$/gm, "")
    .replace(
      "hash $remote_addr consistent;",
      `hash $remote_addr consistent;\n${upstreams.map((p) => `    server 127.0.0.1:${p} max_fails=1 fail_timeout=5s;`).join("\n")}`,
    )
    .replace("listen 80;", `listen 127.0.0.1:${listen};`);
  const file = path.join(dir, "nginx.conf");
  writeFileSync(
    file,
    `daemon off;\npid ${dir}/nginx.pid;\nerror_log ${dir}/error.log warn;\nevents { worker_connections 1024; }\n` +
      `http {\n  access_log off;\n  client_body_temp_path ${dir}/body;\n  proxy_temp_path ${dir}/proxy;\n` +
      `  fastcgi_temp_path ${dir}/fcgi;\n  uwsgi_temp_path ${dir}/uwsgi;\n  scgi_temp_path ${dir}/scgi;\n${site}\n}\n`,
  );
  return file;
}

describe("nginx in front of two gateway nodes (deploy/nginx/gateway.conf)", () => {
  let dir: string;
  let db: TestDatabase;
  let sql: pg.Pool;
  let nginx: ChildProcess;
  let url: string;
  const ports: number[] = [];
  const configs: Config[] = [];
  const nodes: Array<Gateway | null> = [null, null];

  async function startNode(i: number): Promise<void> {
    const gw = await buildGateway(configs[i], { logger: createLogger("silent") });
    await gw.listen();
    nodes[i] = gw;
  }
  async function stopNode(i: number): Promise<void> {
    const gw = nodes[i];
    nodes[i] = null;
    if (!gw) return;
    // As SIGTERM does: this node's vets and offers handed back, then closed.
    await gw.drain();
    await gw.close();
  }
  /** The node nginx sends this test's clients to: the one that saw the last REST request. */
  async function servingNode(): Promise<number> {
    const before = await Promise.all(nodes.map((n) => (n ? n.ctx.metrics.httpDuration.get() : Promise.resolve(null))));
    await request(url, "GET", "/healthz");
    const after = await Promise.all(nodes.map((n) => (n ? n.ctx.metrics.httpDuration.get() : Promise.resolve(null))));
    const count = (m: Awaited<ReturnType<Gateway["ctx"]["metrics"]["httpDuration"]["get"]>> | null) =>
      m ? m.values.filter((v) => v.metricName?.endsWith("_count")).reduce((n, v) => n + v.value, 0) : 0;
    return after.findIndex((m, i) => count(m) > count(before[i]));
  }

  beforeAll(async () => {
    expect(existsSync(NGINX), `${NGINX} is missing: apt-get install -y nginx (.ci/run does)`).toBe(true);
    dir = mkdtempSync(path.join(os.tmpdir(), "vcg-nginx-"));
    db = await createTestDatabase("nginx");
    sql = new pg.Pool({ connectionString: db.url, max: 2 });
    const prefix = uniqueRedisPrefix("nginx");
    for (let i = 0; i < 2; i++) {
      ports.push(await freePort());
      const dataDir = path.join(dir, `node${i}`);
      mkdirSync(dataDir);
      configs.push(
        loadConfig({
          ...testEnv(dataDir),
          PORT: String(ports[i]),
          ADMIN_TOKEN: TEST_ADMIN_TOKEN,
          DATABASE_URL: db.url,
          REDIS_URL,
          REDIS_KEY_PREFIX: prefix,
          TRUST_PROXY: "1",
          WRAPUP_MS: "0",
          // Longer than any reconnect here: a second vet taking over (a hand-over) would not be a double.
          VET_GRACE_MS: "30000",
          USER_GRACE_MS: "30000",
        }),
      );
      await startNode(i);
    }
    const listen = await freePort();
    nginx = spawn(NGINX, ["-c", nginxConf(dir, listen, ports), "-p", dir], { stdio: ["ignore", "ignore", "pipe"] });
    url = `http://127.0.0.1:${listen}`;
    for (let i = 0; i < 100; i++) {
      const up = await fetch(url + "/healthz").then(
        (r) => r.ok,
        () => false,
      );
      if (up) break;
      await sleep(50);
    }
  }, 60_000);

  afterAll(async () => {
    nginx?.kill("SIGQUIT");
    for (let i = 0; i < nodes.length; i++) await nodes[i]?.close();
    await sql?.end();
    await db?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  for (const transport of ["polling", "websocket"] as const) {
    it(`carries a whole consultation over ${transport}, REST included`, async () => {
      const gw = nodes.find((n) => n)!;
      const app = await seedApp(gw);
      const vet = await seedVet(gw);
      const owner = await seedUser(gw, app.id);
      const v = await new TestClient(url, "/vet", vet.token, [transport]).ready();
      const o = await new TestClient(url, "/user", owner.token, [transport]).ready();
      try {
        expect((await v.ask("presence:set", { status: "available" })).success).toBe(true);
        const asked = await o.ask("consult:request", { conversation_request: "chat", pet_id: owner.petId });
        expect(asked.success).toBe(true);
        const id = asked.data.consultation_id as string;
        await v.next("consult:offer", (p) => p.consultation_id === id);
        expect((await v.ask("consult:accept", { consultation_id: id })).success).toBe(true);
        await o.next("consult:matched", (p) => p.consultation_id === id);
        expect((await v.ask("consult:end", { consultation_id: id })).success).toBe(true);
        await o.next("consult:ended", (p) => p.consultation_id === id);
        expect(v.socket.io.engine.transport.name).toBe(transport);
        const lookup = await request(url, "GET", `/admin/v1/consultations/${id}`, {
          headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` },
        });
        expect(lookup.body.data).toMatchObject({ status: "ended", ended_by: "vet" });
      } finally {
        v.close();
        o.close();
      }
    });
  }

  it("sends the clients of a node stopped behind it to the other node", async () => {
    const gw = nodes.find((n) => n)!;
    const app = await seedApp(gw);
    const vet = await seedVet(gw);
    const owner = await seedUser(gw, app.id);
    const fixed = (token: string) => () =>
      Promise.resolve({ token, expires_at: new Date(Date.now() + 3_600_000).toISOString() });
    const v = createVetClient({ url, getToken: fixed(vet.token) });
    const o = createOwnerClient({ url, getToken: fixed(owner.token) });
    try {
      await until(() => v.status === "connected" && o.status === "connected");
      const serving = await servingNode();
      expect(serving).toBeGreaterThanOrEqual(0);
      await stopNode(serving);
      // Both come back through nginx, on the other node, and work.
      await until(() => v.status === "connected" && o.status === "connected", 20_000);
      expect(await servingNode()).toBe(1 - serving);
      await v.setAvailability("available");
      const offered = new Promise<string>((resolve) => v.on("consult:offer", (p) => resolve(p.consultation_id)));
      const asked = await o.request({ conversation_request: "chat", pet_id: owner.petId });
      expect(await offered).toBe(asked.consultation_id);
      await v.accept(asked.consultation_id);
      await v.end(asked.consultation_id);
      await startNode(serving);
    } finally {
      v.close();
      o.close();
    }
  }, 60_000);

  it("loses nothing through a rolling restart of both nodes under steady traffic", async () => {
    const gw = nodes.find((n) => n)!;
    const app = await seedApp(gw);
    const fixed = (token: string) => () =>
      Promise.resolve({ token, expires_at: new Date(Date.now() + 3_600_000).toISOString() });
    /** Per consultation: the vets told their accept succeeded; whether the owner was told matched / ended. */
    const acceptedBy = new Map<string, Set<number>>();
    const toldMatched = new Set<string>();
    const toldEnded = new Set<string>();
    const vets: VetClient[] = [];
    for (let i = 0; i < 4; i++) {
      const seeded = await seedVet(gw);
      const v = createVetClient({ url, getToken: fixed(seeded.token) });
      const available = () => void v.setAvailability("available").catch(() => undefined);
      v.on("presence", (p) => p.status === "away" && available());
      v.onStatus((s) => s === "connected" && available());
      const endSoon = (id: string) => setTimeout(() => void v.end(id).catch(() => undefined), 150);
      v.on("consult:offer", (p) => {
        v.accept(p.consultation_id).then(
          () => {
            acceptedBy.set(p.consultation_id, (acceptedBy.get(p.consultation_id) ?? new Set()).add(seeded.id));
            endSoon(p.consultation_id);
          },
          () => undefined,
        );
      });
      // A console that resumes a consultation ends it like any other.
      v.on("consult:state", (s) => endSoon(s.consultation_id));
      vets.push(v);
    }
    const owners: Array<{ sdk: OwnerClient; petId: number; open: string | null }> = [];
    for (let i = 0; i < 12; i++) {
      const seeded = await seedUser(gw, app.id);
      const sdk = createOwnerClient({ url, getToken: fixed(seeded.token) });
      const o = { sdk, petId: seeded.petId, open: null as string | null };
      sdk.on("consult:matched", (p) => toldMatched.add(p.consultation_id));
      const closed = (id: string) => {
        toldEnded.add(id);
        if (o.open === id) o.open = null;
      };
      sdk.on("consult:ended", (p) => closed(p.consultation_id));
      sdk.on("consult:expired", (p) => closed(p.consultation_id));
      owners.push(o);
    }
    await until(() => [...vets, ...owners.map((o) => o.sdk)].every((c) => c.status === "connected"), 20_000);

    let issuing = true;
    let requested = 0;
    const traffic = (async () => {
      while (issuing) {
        for (const o of owners) {
          if (!issuing || o.open !== null || o.sdk.status !== "connected") continue;
          o.sdk.request({ conversation_request: "chat", pet_id: o.petId }).then(
            (r) => {
              if (r.status === "active" || r.status === "queued" || r.status === "offered") o.open = r.consultation_id;
              requested++;
            },
            () => undefined, // refused or cut by the restart: asked again on a later round
          );
        }
        await sleep(100);
      }
    })();

    await sleep(2000);
    for (const i of [0, 1]) {
      await stopNode(i);
      await sleep(2500);
      await startNode(i);
      await sleep(2500);
    }
    issuing = false;
    await traffic;
    // Settle: every consultation closed in the database.
    const open = async () =>
      (await sql.query(`select count(*)::int as n from consultations where status in ('queued', 'offered', 'active')`))
        .rows[0].n as number;
    await until(async () => (await open()) === 0, 30_000).catch(() => undefined);

    const rows = (await sql.query(`select id, status, accepted_at from consultations`)).rows as Array<{
      id: string;
      status: string;
      accepted_at: Date | null;
    }>;
    const byId = new Map(rows.map((r) => [r.id, r]));
    const lost = [
      ...[...toldMatched].filter((id) => !byId.get(id)?.accepted_at),
      ...[...toldEnded].filter((id) => !["ended", "cancelled", "expired"].includes(byId.get(id)?.status ?? "")),
    ];
    const stuck = rows.filter((r) => ["queued", "offered", "active"].includes(r.status)).map((r) => r.id);
    const double = [...acceptedBy].filter(([, vetIds]) => vetIds.size > 1).map(([id]) => id);
    for (const c of [...vets, ...owners.map((o) => o.sdk)]) c.close();
    const rowsOf = (ids: string[]) =>
      JSON.stringify(
        ids.map((id) => ({
          ...byId.get(id),
          vets: [...(acceptedBy.get(id) ?? [])],
          matched: toldMatched.has(id),
          ended: toldEnded.has(id),
        })),
      );
    expect({ lost, stuck, double }, rowsOf([...lost, ...stuck, ...double])).toEqual({
      lost: [],
      stuck: [],
      double: [],
    });
    // Traffic flowed through both restarts.
    expect(requested).toBeGreaterThan(20);
    expect(toldMatched.size).toBeGreaterThan(20);
  }, 120_000);
});

async function until(check: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error("timed out");
    await sleep(50);
  }
}
