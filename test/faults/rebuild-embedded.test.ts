/**
 * The embedded gateway (no REDIS_URL: memory store) closed and started again on the same
 * database: the queued request is rebuilt from the database (PROTOCOL §6), its owner gets
 * it back on reconnecting, and a vet who connects gets the offer.
 */
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { loadConfig, type Config } from "../../src/config.js";
import { createLogger } from "../../src/lib/logger.js";
import { buildGateway, type Gateway } from "../../src/server.js";
import { seedApp, seedUser, seedVet, type TestClient, userClient, vetClient } from "../support/actors.js";
import { testEnv } from "../support/gateway.js";
import { createTestDatabase, type TestDatabase } from "../support/services.js";

describe.each(["postgres", "pglite"] as const)("embedded gateway restarted (%s)", (db) => {
  let tdb: TestDatabase | null = null;
  let gw: Gateway | null = null;
  const clients: TestClient[] = [];
  const dataDir = mkdtempSync(path.join(os.tmpdir(), "vcg-embedded-"));

  afterEach(async () => {
    for (const c of clients) c.close();
    await gw?.close();
    await tdb?.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  async function start(config: Config): Promise<string> {
    gw = await buildGateway(config, { logger: createLogger(config.logLevel) });
    return `http://127.0.0.1:${(await gw.listen()).port}`;
  }

  it("queues the request again and offers it to a vet who connects", async () => {
    if (db === "postgres") tdb = await createTestDatabase("embedded");
    const config = loadConfig({
      ...testEnv(dataDir),
      USER_GRACE_MS: "60000",
      ...(tdb ? { DATABASE_URL: tdb.url } : {}),
    });
    let url = await start(config);
    const app = await seedApp(gw!);
    const owner = await seedUser(gw!, app.id);
    const vet = await seedVet(gw!);
    const u = await userClient(url, owner.token);
    clients.push(u);
    const r = await u.ask("consult:request", { conversation_request: "chat", pet_id: owner.petId });
    expect(r.data.status).toBe("queued");
    u.close();
    await gw!.close();

    url = await start(config);
    expect(await gw!.engine.stats()).toMatchObject({ queue_length: 1, open_consultations: 1 });
    const again = await userClient(url, owner.token);
    clients.push(again);
    const state = await again.next("consult:state");
    expect(state).toMatchObject({ consultation_id: r.data.consultation_id, status: "queued" });
    const v = await vetClient(url, vet.token);
    clients.push(v);
    const offer = await v.next("consult:offer", (p) => p.consultation_id === r.data.consultation_id);
    expect(offer.consultation_id).toBe(r.data.consultation_id);
    expect((await v.ask("consult:accept", { consultation_id: r.data.consultation_id })).success).toBe(true);
    await again.next("consult:matched", (p) => p.consultation_id === r.data.consultation_id);
    // PGlite starts twice here (WASM and migrations each time): slow on a busy machine.
  }, 60_000);
});
