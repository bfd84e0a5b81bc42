/**
 * A vet's console dies or reloads, with two nodes sharing Redis (PROTOCOL §3, §4): the
 * reload lands on the other node and resumes; a vet gone past `VET_GRACE_MS` hands the
 * consultation to the head of the queue, whichever node's timer fires.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { seedApp, seedUser, seedVet, TestClient, userClient, vetClient } from "../support/actors.js";
import { startTestGateway, type TestGateway } from "../support/gateway.js";

const GRACE_MS = 600;

describe("vet gone or reloaded, two nodes on Redis", () => {
  let t: TestGateway;
  let app: Awaited<ReturnType<typeof seedApp>>;
  const clients: TestClient[] = [];
  const track = <T extends TestClient>(c: T): T => {
    clients.push(c);
    return c;
  };

  beforeAll(async () => {
    t = await startTestGateway({
      redis: true,
      nodes: 2,
      env: { VET_GRACE_MS: String(GRACE_MS), USER_GRACE_MS: "0", WRAPUP_MS: "0" },
    });
    app = await seedApp(t.gateway);
  });
  afterAll(async () => {
    for (const c of clients) c.close();
    await t.close();
  });

  async function activeOnNode0() {
    const vet = await seedVet(t.gateway);
    const v = track(await vetClient(t.urls[0], vet.token));
    const owner = await seedUser(t.gateway, app.id);
    const u = track(await userClient(t.urls[0], owner.token));
    const req = await u.ask("consult:request", { conversation_request: "chat", pet_id: owner.petId });
    const id = req.data.consultation_id as string;
    await v.next("consult:offer", (p) => p.consultation_id === id);
    const acc = await v.ask("consult:accept", { consultation_id: id });
    expect(acc.status_code).toBe(200);
    return { vet, v, u, id, accepted: acc.data };
  }

  it("a console reload that lands on the other node resumes the consultation", async () => {
    const { vet, v, u, id, accepted } = await activeOnNode0();
    v.socket.io.engine.close(); // the transport drops, as when a page reloads
    const reloaded = track(await new TestClient(t.urls[1], "/vet", vet.token).ready());
    expect(await reloaded.next("consult:state")).toMatchObject({
      consultation_id: id,
      status: "active",
      channel: accepted.channel,
    });
    await u.none("consult:queued", (p) => p.reason === "vet_left", GRACE_MS + 400);
    expect((await reloaded.ask("consult:end", { consultation_id: id })).status_code).toBe(200);
  });

  it("a vet gone past VET_GRACE_MS: the owner on node 0 waits at the head, a vet on node 1 gets it transferred", async () => {
    const { v, u, id, accepted } = await activeOnNode0();
    const other = await seedUser(t.gateway, app.id);
    const o = track(await userClient(t.urls[1], other.token));
    await o.ask("consult:request", { conversation_request: "chat", pet_id: other.petId });
    v.socket.io.engine.close();

    expect(await u.next("consult:queued", (p) => p.reason === "vet_left", GRACE_MS + 3000)).toMatchObject({
      consultation_id: id,
      position: 1,
    });
    const next = await seedVet(t.gateway);
    const n = track(await vetClient(t.urls[1], next.token));
    expect(await n.next("consult:offer")).toMatchObject({ consultation_id: id, transferred: true });
    const acc = await n.ask("consult:accept", { consultation_id: id });
    expect(acc.data).toMatchObject({ consultation_id: id, channel: accepted.channel });
    await n.ask("consult:end", { consultation_id: id });
  });
});
