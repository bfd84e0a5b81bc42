/**
 * A hand-over after `VET_GRACE_MS` while PostgreSQL is cut (PROTOCOL §4, §6): record first,
 * so the owner hears `vet_left` only once the database has it; until then the consultation
 * stays with the old vet, and the hand-over is tried again after the link is back.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Gateway } from "../../src/server.js";
import { seedApp, seedUser, seedVet, userClient, vetClient, type TestClient } from "../support/actors.js";
import { startGatewayBehindDbProxy, type GatewayBehindProxy } from "../support/gateway.js";
import type { TcpProxy } from "../support/tcp-proxy.js";

const GRACE_MS = 300;

describe("hand-over with PostgreSQL cut", () => {
  let env: GatewayBehindProxy;
  let proxy: TcpProxy;
  let gw: Gateway;
  let url: string;
  const clients: TestClient[] = [];

  beforeAll(async () => {
    env = await startGatewayBehindDbProxy("handovercut", {
      DATABASE_TIMEOUT_MS: "1000",
      VET_GRACE_MS: String(GRACE_MS),
      WRAPUP_MS: "0",
    });
    ({ gw, url, proxy } = env);
  });
  afterAll(async () => {
    for (const c of clients) c.close();
    await env?.close();
  });

  it("the owner hears vet_left only after the database is back and has it; until then it stays with the vet", async () => {
    const app = await seedApp(gw);
    const vet = await seedVet(gw);
    const owner = await seedUser(gw, app.id);
    const v = await vetClient(url, vet.token);
    const u = await userClient(url, owner.token);
    clients.push(v, u);
    const id = (await u.ask("consult:request", { conversation_request: "chat", pet_id: owner.petId })).data
      .consultation_id as string;
    await v.next("consult:offer", (p) => p.consultation_id === id);
    expect((await v.ask("consult:accept", { consultation_id: id })).status_code).toBe(200);
    await gw.engine.flush();

    proxy.cut("refuse");
    try {
      v.close();
      // Grace runs out during the cut: the write is refused, nobody is told.
      await u.none("consult:queued", (p) => p.reason === "vet_left", GRACE_MS + 2500);
      const live = await (
        gw.engine as unknown as { store: { getConsultation(id: string): Promise<unknown> } }
      ).store.getConsultation(id);
      expect(live).toMatchObject({ status: "active", vetId: vet.id });
    } finally {
      proxy.restore();
    }
    expect(await u.next("consult:queued", (p) => p.reason === "vet_left", 10_000)).toMatchObject({
      consultation_id: id,
      position: 1,
    });
    const rec = await gw.ctx.repos.ledger.get(id);
    expect(rec?.status).toBe("queued");
  });
});
