/**
 * Several gateway nodes on one Redis (and one PostgreSQL): cross-node delivery, racing
 * requests, drain, and a node killed with SIGKILL.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ownerActor, seedApp, seedUser, seedVet, userClient, vetActor, vetClient } from "../../support/actors.js";
import { startTestGateway, type TestGateway } from "../../support/gateway.js";
import { buildGateway } from "../../../src/server.js";
import { REDIS_URL } from "../../support/services.js";

describe("two nodes on one Redis", () => {
  let t: TestGateway;
  let app: Awaited<ReturnType<typeof seedApp>>;
  const clients: Array<{ close(): void }> = [];
  const track = <T extends { close(): void }>(c: T) => (clients.push(c), c);

  beforeAll(async () => {
    t = await startTestGateway({ redis: true, nodes: 2, env: { USER_GRACE_MS: "0", WRAPUP_MS: "0" } });
    app = await seedApp(t.gateway);
  });
  afterAll(async () => {
    for (const c of clients) c.close();
    await t.close();
  });

  // First in this file: no vet is online yet, so every request waits.
  it("queue places: each owner socket hears each new place once, whichever node made the change", async () => {
    const [ua, ub, uc] = await Promise.all([0, 1, 2].map(() => seedUser(t.gateway, app.id)));
    const a = track(await ownerActor(t.urls[0], ua.token));
    const b = track(await ownerActor(t.urls[0], ub.token));
    // Owner c has a socket on each node; it requests through node 2.
    const c = track(await ownerActor(t.urls[1], uc.token));
    const cOther = track(await ownerActor(t.urls[0], uc.token));
    const ra = await a.request({ conversation_request: "chat", pet_id: ua.petId });
    const rb = await b.request({ conversation_request: "chat", pet_id: ub.petId });
    const rc = await c.request({ conversation_request: "chat", pet_id: uc.petId });
    expect([ra.position, rb.position, rc.position]).toEqual([1, 2, 3]);
    await c.next("consult:queued", (p) => p.position === 3);
    // Node 1 cancels a: b (node 1) and both sockets of c (node 1 and node 2) move up.
    await a.cancel(ra.consultation_id);
    await b.next("consult:queued", (p) => p.position === 1);
    await c.next("consult:queued", (p) => p.position === 2);
    await cOther.next("consult:queued", (p) => p.position === 2);
    await new Promise((r) => setTimeout(r, 600)); // several ticks of both nodes
    const places = (o: typeof a) => o.all("consult:queued").map((p: { position: number }) => p.position);
    expect(places(b)).toEqual([2, 1]);
    expect(places(c)).toEqual([3, 2]);
    // The other node told its socket by itself: the place at its first tick (3, or 2 when the cancel came first), never twice.
    expect([[3, 2], [2]]).toContainEqual(places(cOther));
    await b.cancel(rb.consultation_id);
    await c.cancel(rc.consultation_id);
  });

  it("a user on node 1 is matched with a vet on node 2", async () => {
    // Both sides through the client SDK (createVetClient / createOwnerClient).
    const vet = await seedVet(t.gateway);
    const v = track(await vetActor(t.urls[1], vet.token));
    const user = await seedUser(t.gateway, app.id);
    const u = track(await ownerActor(t.urls[0], user.token));
    const req = await u.request({ conversation_request: "video", pet_id: user.petId });
    const offer = await v.next("consult:offer");
    expect(offer.consultation_id).toBe(req.consultation_id);
    const acc = await v.accept(offer.consultation_id);
    const matched = await u.next("consult:matched");
    expect(matched.channel).toBe(acc.channel);
    const call = await v.startCall(offer.consultation_id);
    expect((await u.next("call:incoming")).room_sid).toBe(call.room_sid);
    await u.callStatus(call.room_sid, "declined");
    expect(await v.next("call:status")).toMatchObject({ status: "declined" });
    await u.end(offer.consultation_id);
    expect(await v.next("consult:ended")).toMatchObject({ ended_by: "user" });
    v.close();
    u.close();
  });

  it("race: 40 simultaneous requests, 6 vets over 2 nodes: no double assignment, no double offer", async () => {
    const vets = await Promise.all(Array.from({ length: 6 }, () => seedVet(t.gateway)));
    const vetClients = await Promise.all(vets.map((v, i) => vetActor(t.urls[i % 2], v.token)));
    vetClients.forEach(track);
    const users = await Promise.all(Array.from({ length: 40 }, () => seedUser(t.gateway, app.id)));
    const userClients = await Promise.all(users.map((u, i) => ownerActor(t.urls[i % 2], u.token)));
    userClients.forEach(track);

    // Every vet accepts every offer it gets, ends at once, and takes the next.
    const acceptedBy = new Map<string, number[]>();
    const heldAt = new Map<number, string | null>();
    let doubleOffer = false;
    vetClients.forEach((vc, i) => {
      const vetId = vets[i].id;
      vc.sdk.on("consult:offer", (p) => {
        if (heldAt.get(vetId)) doubleOffer = true;
        heldAt.set(vetId, p.consultation_id);
        void (async () => {
          // A refused accept (409: revoked or taken) rejects; only accepted ones count.
          const accepted = await vc.accept(p.consultation_id).then(
            () => true,
            () => false,
          );
          heldAt.set(vetId, null);
          if (accepted) {
            acceptedBy.set(p.consultation_id, [...(acceptedBy.get(p.consultation_id) ?? []), vetId]);
            await vc.end(p.consultation_id);
          }
        })();
      });
    });
    try {
      // Every request succeeds (an error envelope would reject).
      const requests = await Promise.all(
        userClients.map((uc, i) => uc.request({ conversation_request: "chat", pet_id: users[i].petId })),
      );
      const ids = new Set(requests.map((r) => r.consultation_id));
      expect(ids.size).toBe(40);
      await expect.poll(() => acceptedBy.size, { timeout: 20_000, interval: 100 }).toBe(40);
      for (const [, by] of acceptedBy) expect(by).toHaveLength(1);
      expect(doubleOffer).toBe(false);
      // Every owner was matched exactly once, with the vet that accepted. An owner on the other
      // node than the vet hears it through Redis, which may land after the vet's ack.
      for (let i = 0; i < 40; i++) {
        await expect
          .poll(() => userClients[i].all("consult:matched").length, { timeout: 5_000, interval: 20 })
          .toBeGreaterThan(0);
        const matched = userClients[i].all("consult:matched");
        expect(matched).toHaveLength(1);
        expect(acceptedBy.get(matched[0].consultation_id)).toEqual([Number(matched[0].vet.id.split("vet-")[1])]);
      }
      // The offers table agrees: one accepted offer per consultation.
      await Promise.all(t.gateways.map((g) => g.engine.flush()));
      for (const id of ids) {
        const offers = await t.gateway.ctx.repos.ledger.offersOf(id);
        expect(offers.filter((o) => o.outcome === "accepted")).toHaveLength(1);
      }
    } finally {
      // Even after a failure: vets left online would take the next test's offers.
      for (const c of [...vetClients, ...userClients]) c.close();
    }
  });

  it("drain (SIGTERM path) hands a node's vets and offers to the other node at once", async () => {
    // A third node on the same Redis prefix and database, built like the others.
    const node3 = await buildGateway(t.config, { database: t.database, logger: t.gateway.ctx.logger });
    const addr = await node3.listen();
    const url3 = `http://127.0.0.1:${addr.port}`;

    const onNode3 = await seedVet(t.gateway);
    const onNode1 = await seedVet(t.gateway);
    const v3 = track(await vetActor(url3, onNode3.token));
    await new Promise((r) => setTimeout(r, 20));
    const v1 = track(await vetActor(t.urls[0], onNode1.token));
    const user = await seedUser(t.gateway, app.id);
    const u = track(await ownerActor(t.urls[1], user.token));
    const req = await u.request({ conversation_request: "chat", pet_id: user.petId });
    expect((await v3.next("consult:offer")).consultation_id).toBe(req.consultation_id);
    const started = Date.now();
    await node3.drain();
    expect((await v1.next("consult:offer")).consultation_id).toBe(req.consultation_id);
    expect(Date.now() - started).toBeLessThan(10_000);
    await u.cancel(req.consultation_id);
  });
});

describe("a gateway process on one Redis with this test's node", () => {
  let t: TestGateway;
  const children: ChildProcess[] = [];

  beforeAll(async () => {
    t = await startTestGateway({ redis: true, env: { PRESENCE_TTL_MS: "3000" } });
  });
  afterAll(async () => {
    for (const c of children) c.kill("SIGKILL");
    await t.close();
  });

  /** Starts `src/main.ts` as a separate process on the test's database and Redis prefix. */
  async function startProcess(): Promise<{ child: ChildProcess; url: string; exited: Promise<number | null> }> {
    const port = 20_000 + Math.floor(Math.random() * 20_000);
    const child = spawn(process.execPath, ["--import", "tsx", "src/main.ts"], {
      env: {
        ...process.env,
        NODE_ENV: "test",
        PORT: String(port),
        HOST: "127.0.0.1",
        LOG_LEVEL: "silent",
        DATABASE_URL: t.config.databaseUrl,
        REDIS_URL,
        REDIS_KEY_PREFIX: t.redisPrefix!,
        GATEWAY_SECRET: t.config.gatewaySecret!,
        PRESENCE_TTL_MS: "3000",
        DATA_DIR: t.config.dataDir,
      },
      stdio: "ignore",
    });
    children.push(child);
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    const url = `http://127.0.0.1:${port}`;
    await expect
      .poll(
        async () =>
          await fetch(`${url}/healthz`)
            .then((r) => r.status)
            .catch(() => 0),
        { timeout: 20_000, interval: 200 },
      )
      .toBe(200);
    return { child, url, exited };
  }

  /** A vet on the process holding an offer, and a second vet on the test's node. */
  async function offerHeldOnProcess(url: string) {
    const app = await seedApp(t.gateway);
    const doomedVet = await seedVet(t.gateway);
    const v = await vetClient(url, doomedVet.token);
    const survivor = await seedVet(t.gateway);
    const user = await seedUser(t.gateway, app.id);
    const u = await userClient(t.url, user.token);
    const req = await u.ask("consult:request", { conversation_request: "chat", pet_id: user.petId });
    expect((await v.next("consult:offer")).consultation_id).toBe(req.data.consultation_id);
    const s = await vetClient(t.url, survivor.token);
    return { id: req.data.consultation_id as string, doomedVet, v, s, u };
  }

  it("SIGKILL: its vets leave routing within PRESENCE_TTL_MS and their offers go to the next vet", async () => {
    const { child, url } = await startProcess();
    const { id, doomedVet, v, s, u } = await offerHeldOnProcess(url);
    child.kill("SIGKILL");
    const killed = Date.now();
    const offer = await s.next("consult:offer", () => true, 10_000);
    expect(offer.consultation_id).toBe(id);
    // Within the TTL plus one sweep.
    expect(Date.now() - killed).toBeLessThan(3000 + 1500);
    await t.gateway.engine.flush();
    expect((await t.gateway.ctx.repos.ledger.offersOf(id))[0]).toEqual({ vetId: doomedVet.id, outcome: "node_dead" });
    const stats = await t.gateway.engine.stats();
    expect(stats.vets.offline).toBeGreaterThanOrEqual(1);
    await u.ask("consult:cancel", { consultation_id: id });
    for (const c of [v, s, u]) c.close();
  });

  it("SIGTERM: drains at once (offers handed to the next vet, no TTL wait), closes sockets and exits 0", async () => {
    const { child, url, exited } = await startProcess();
    const { id, v, s, u } = await offerHeldOnProcess(url);
    const disconnected = new Promise<string>((resolve) =>
      v.socket.once("disconnect", (reason: string) => resolve(reason)),
    );
    child.kill("SIGTERM");
    const sent = Date.now();
    expect((await s.next("consult:offer", () => true, 5000)).consultation_id).toBe(id);
    expect(Date.now() - sent).toBeLessThan(3000); // well before the 3 s TTL would have expired
    await disconnected;
    expect(await exited).toBe(0);
    expect(Date.now() - sent).toBeLessThan(10_000);
    await u.ask("consult:cancel", { consultation_id: id });
    for (const c of [v, s, u]) c.close();
  });
});
