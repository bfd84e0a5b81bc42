/**
 * PROTOCOL §7: demo records never outlive demo mode. A demo run and a real start share one
 * database (as `npm run demo` and `npm start` share `./data`): with demo mode off the seeded
 * vets cannot log in, connect or renew (so they are never in routing and get no offer), the
 * seeded owners' tokens are refused, and the demo app is unknown. In demo mode, `/demo/v1/owner-token` serves the seeded owners only, and real
 * records in the same database are warned about.
 */
import { readFileSync } from "node:fs";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../../src/config.js";
import { createLogger } from "../../../src/lib/logger.js";
import { buildGateway, type Gateway } from "../../../src/server.js";
import { TestClient } from "../../support/actors.js";
import {
  basicAuth,
  capturingLogger,
  request,
  startTestGateway,
  testEnv,
  type TestGateway,
} from "../../support/gateway.js";

describe("demo records after demo mode", () => {
  let demo: TestGateway;
  let real: Gateway;
  let realUrl: string;
  let realDir: string;
  let vetToken: string;
  let ownerToken: string;
  const logs = capturingLogger("warn");
  beforeAll(async () => {
    demo = await startTestGateway({ env: { DEMO: "1" }, logger: logs.logger });
    const login = await request(demo.url, "POST", "/vet/v1/login", {
      body: { email: "vet3@demo.test", password: "demo-vet-3" },
    });
    expect(login.status).toBe(200);
    vetToken = login.body.data.token as string;
    ownerToken = (await request(demo.url, "POST", "/demo/v1/owner-token", { body: { email: "alice@demo.test" } })).body
      .data.token as string;
    // The same database started without DEMO, as `npm start` after `npm run demo`.
    realDir = mkdtempSync(path.join(os.tmpdir(), "vcg-real-"));
    const config = loadConfig({ ...testEnv(realDir), DATABASE_URL: demo.config.databaseUrl ?? "" });
    real = await buildGateway(config, { database: demo.database, logger: createLogger("silent") });
    realUrl = `http://127.0.0.1:${(await real.listen()).port}`;
  });
  afterAll(async () => {
    await real?.close();
    await demo?.close();
    rmSync(realDir, { recursive: true, force: true });
  });

  const handshake = (url: string, ns: "/vet" | "/user", token: string) =>
    new TestClient(url, ns, token).ready().then(
      (c) => (c.close(), "connected"),
      (err: Error) => err.message,
    );

  it("seeded records are marked as demo records", async () => {
    const vet = await demo.gateway.ctx.repos.vets.findByEmail("vet3@demo.test");
    expect(vet?.demo).toBe(true);
    const app = (await demo.gateway.ctx.repos.apps.listForAuth()).find((a) => a.name === "demo");
    expect(app?.demo).toBe(true);
    const owner = await demo.gateway.ctx.repos.users.findActiveByEmail(app!.id, "alice@demo.test");
    expect(owner?.demo).toBe(true);
  });

  it("with demo mode off, a demo vet cannot log in (the same 401 as a wrong password), connect or renew", async () => {
    const login = await request(realUrl, "POST", "/vet/v1/login", {
      body: { email: "vet3@demo.test", password: "demo-vet-3" },
    });
    expect(login.status).toBe(401);
    expect(login.body.message).toEqual(["Unauthenticated."]);
    expect(await handshake(realUrl, "/vet", vetToken)).toBe("unauthorized");
    expect(
      (await request(realUrl, "POST", "/vet/v1/token", { headers: { authorization: `Bearer ${vetToken}` } })).status,
    ).toBe(401);
    // In demo mode the same token still works.
    expect(await handshake(demo.url, "/vet", vetToken)).toBe("connected");
  });

  it("with demo mode off, a demo owner's token is refused and the demo app is unknown", async () => {
    expect(await handshake(realUrl, "/user", ownerToken)).toBe("unauthorized");
    expect(await handshake(demo.url, "/user", ownerToken)).toBe("connected");
    const rest = await request(realUrl, "POST", "/api/v2/demo/socket-token", {
      body: { email: "alice@demo.test" },
      headers: { authorization: basicAuth("demo", "whatever-secret-000") },
    });
    expect(rest.status).toBe(404);
    expect(rest.body.message).toEqual(["App Not Found"]);
  });

  it("in demo mode, /demo/v1/owner-token serves the seeded owners only, not another user of the app named demo", async () => {
    const app = (await demo.gateway.ctx.repos.apps.findByName("demo"))!;
    await demo.gateway.ctx.repos.users.register(
      app.id,
      { email: "intruder@example.com", firstName: "In", lastName: "Truder", role: "users", emergencyFund: 0 },
      new Date(),
    );
    const res = await request(demo.url, "POST", "/demo/v1/owner-token", { body: { email: "intruder@example.com" } });
    expect(res.status).toBe(404);
  });

  it("demo mode on a database with real vets or apps logs a warning naming how many", async () => {
    await real.ctx.repos.apps.create({ name: "realapp", secret: "real-app-secret-0123456789" });
    await real.ctx.repos.vets.create({
      email: "real.vet@clinic.example",
      password: "real-vet-password",
      firstName: "Real",
      lastName: "Vet",
    });
    const again = await buildGateway(
      loadConfig({ ...testEnv(realDir), DEMO: "1", DATABASE_URL: demo.config.databaseUrl ?? "" }),
      { database: demo.database, logger: logs.logger },
    );
    await again.close();
    const warning = logs.lines.find((l) => String(l.msg).startsWith("demo mode on a database with real records"));
    expect(warning).toMatchObject({ realApps: 1, realVets: 1 });
    // The first demo start found none.
    expect(
      logs.lines.filter((l) => String(l.msg).startsWith("demo mode on a database with real records")),
    ).toHaveLength(1);
  });

  it("migration 0006 marks what an earlier demo run left unmarked", async () => {
    const db = demo.database.db;
    await db.execute(sql`update vets set demo = false; update apps set demo = false; update users set demo = false`);
    const file = readFileSync(new URL("../../../drizzle/0006_demo_records_and_sessions.sql", import.meta.url), "utf8");
    for (const statement of file
      .split("--> statement-breakpoint")
      .filter((s) => /^\s*(--[^\n]*\n\s*)*UPDATE/i.test(s))) {
      await db.execute(sql.raw(statement));
    }
    expect((await demo.gateway.ctx.repos.vets.findByEmail("vet1@demo.test"))?.demo).toBe(true);
    const apps = await demo.gateway.ctx.repos.apps.listForAuth();
    expect(apps.find((a) => a.name === "demo")?.demo).toBe(true);
    expect(apps.find((a) => a.name === "realapp")?.demo).toBe(false);
    const demoApp = apps.find((a) => a.name === "demo")!;
    expect((await demo.gateway.ctx.repos.users.findActiveByEmail(demoApp.id, "alice@demo.test"))?.demo).toBe(true);
    expect((await demo.gateway.ctx.repos.users.findActiveByEmail(demoApp.id, "intruder@example.com"))?.demo).toBe(
      false,
    );
  });
});
