/** `admin consultation ID` prints the same JSON as `GET /admin/v1/consultations/{id}`. */
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runAdminCli, type CliIo } from "../../../src/cli/admin.js";
import { seedApp, seedUser, seedVet } from "../../support/actors.js";
import { request, startTestGateway, TEST_ADMIN_TOKEN, type TestGateway } from "../../support/gateway.js";

function io(env: Record<string, string | undefined>) {
  const out: string[] = [];
  const err: string[] = [];
  const cli: CliIo = { env, readStdin: () => Promise.resolve(""), out: (t) => out.push(t), err: (t) => err.push(t) };
  return { cli, out, err };
}

describe("admin CLI: consultation ID", () => {
  let t: TestGateway;
  let id: string;
  beforeAll(async () => {
    t = await startTestGateway();
    const gw = t.gateway;
    const app = await seedApp(gw);
    const owner = await seedUser(gw, app.id);
    const vet = await seedVet(gw);
    id = randomUUID();
    const at = Date.UTC(2026, 5, 2);
    await gw.ctx.repos.ledger.create(
      {
        id,
        appId: app.id,
        userId: owner.userId,
        petId: owner.petId,
        type: "chat",
        status: "queued",
        seq: 1,
        createdAt: at,
        queueDeadline: at + 600_000,
        requestedVetId: null,
        offer: null,
        excludedVetIds: [],
        vetId: null,
        acceptedAt: null,
        channelSid: null,
        roomSid: null,
        profile: { user: { id: owner.userId, first_name: "O", last_name: null, email: owner.email }, pet: null },
      },
      "socket",
    );
    await gw.ctx.repos.ledger.offerMade(id, vet.id, at + 10, at + 30_010, false);
    await gw.ctx.repos.ledger.transition(id, "active", at + 20, {
      vetId: vet.id,
      resolvedOffer: { vetId: vet.id, outcome: "accepted" },
    });
  });
  afterAll(async () => {
    await t?.close();
  });

  it("prints the admin endpoint's data", async () => {
    const { cli, out, err } = io({ NODE_ENV: "test", DATABASE_URL: t.config.databaseUrl });
    expect(await runAdminCli(["consultation", id], cli)).toBe(0);
    expect(err).toEqual([]);
    const http = await request(t.url, "GET", `/admin/v1/consultations/${id}`, {
      headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` },
    });
    expect(http.status).toBe(200);
    expect(JSON.parse(out.join(""))).toEqual(http.body.data);
    expect(http.body.data).toMatchObject({ status: "active", offers: [{ outcome: "accepted" }] });
  });

  it("unknown id → exit 1 with one line; missing id → usage error", async () => {
    const unknown = io({ NODE_ENV: "test", DATABASE_URL: t.config.databaseUrl });
    const missingId = randomUUID();
    expect(await runAdminCli(["consultation", missingId], unknown.cli)).toBe(1);
    expect(unknown.err).toEqual([`error: consultation not found: ${missingId}\n`]);
    expect(unknown.out).toEqual([]);
    const missing = io({ NODE_ENV: "test", DATABASE_URL: t.config.databaseUrl });
    expect(await runAdminCli(["consultation"], missing.cli)).toBe(2);
    expect(missing.err.join("")).toMatch(/^error: consultation needs an ID/);
  });
});
