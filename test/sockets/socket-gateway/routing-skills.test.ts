/**
 * PROTOCOL §4 "Skills", "Capacity per channel" and "Priority" end to end: vets created with
 * skills through the admin REST API and logged in over `/vet/v1/login`, owners and pets
 * through the v2 REST API, both sides on the client SDK over real sockets, real PostgreSQL,
 * and each routing store (memory, Redis). Each test pins one rule.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { OwnerActor, ownerActor, vetActor, type VetActor } from "../../support/actors.js";
import { request, startTestGateway, TEST_ADMIN_TOKEN, type TestGateway } from "../../support/gateway.js";
import { createAppClient, email, expectError, type AppClient } from "../../support/v2.js";

/** Short enough to watch a request fall back to any vet within a test. */
const LANGUAGE_WAIT_MS = 1500;
const admin = { authorization: `Bearer ${TEST_ADMIN_TOKEN}` };
/** Queue places are sent on the next tick (100 ms); a loaded machine may take longer. */
const POLL = { timeout: 5000 };

type Closable = VetActor | OwnerActor;

/** Consecutive duplicates dropped: a new estimate may repeat a place. */
const places = (events: Array<{ position: number }>) =>
  events.map((e) => e.position).filter((p, i, all) => i === 0 || all[i - 1] !== p);

describe.each([
  { store: "memory", redis: false },
  { store: "redis", redis: true },
])("routing skills end to end ($store store)", ({ redis }) => {
  let t: TestGateway;
  let app: AppClient;
  const clients: Closable[] = [];
  const track = <T extends Closable>(c: T): T => {
    clients.push(c);
    return c;
  };

  beforeAll(async () => {
    t = await startTestGateway({ redis, env: { USER_GRACE_MS: "0", LANGUAGE_WAIT_MS: String(LANGUAGE_WAIT_MS) } });
    app = await createAppClient(t);
  });

  // Owners leave first (USER_GRACE_MS=0 cancels what they left waiting), then vets; every
  // test ends its active consultations, so the next one starts from an empty floor.
  afterEach(async () => {
    const all = clients.splice(0);
    for (const c of all) if (c instanceof OwnerActor) c.close();
    for (const c of all) if (!(c instanceof OwnerActor)) c.close();
    await expect
      .poll(
        async () => {
          const s = await t.gateway.engine.stats();
          return {
            online: Object.values(s.vets).reduce((a, b) => a + b, 0) - s.vets.offline,
            open: s.open_consultations,
          };
        },
        { timeout: 5000 },
      )
      .toEqual({ online: 0, open: 0 });
  });
  afterAll(() => t?.close());

  /** A vet created with skills over `POST /admin/v1/vets`, logged in, online and available. */
  async function vetOnline(skills: { species?: string[]; languages?: string[]; max_chats?: number } = {}) {
    const body = { email: email("vet"), password: "password-123", first_name: "Vet", last_name: "Skill", ...skills };
    const created = await request(t.url, "POST", "/admin/v1/vets", { body, headers: admin });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const login = await request(t.url, "POST", "/vet/v1/login", {
      body: { email: body.email, password: body.password },
    });
    expect(login.status, JSON.stringify(login.body)).toBe(200);
    const token = login.body.data.token as string;
    const client = track(await vetActor(t.url, token));
    return { id: created.body.data.id as number, email: body.email, token, client };
  }

  /** An owner registered over the v2 API with one pet of `species`, connected on `/user`. */
  async function owner(species: string, role: "users" | "protect_users" = "users") {
    const res = await app.call("POST", "/register-user", {
      first_name: "Owner",
      email: email("owner"),
      role,
      ...(role === "protect_users" ? { emergency_fund: 500 } : {}),
      pet: { name: `Pet-${species}`, species },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const { user, socket_token } = res.body.data;
    expect(user).toMatchObject({ role, status: "subscribed", pets: { species } });
    const client = track(await ownerActor(t.url, socket_token.token as string));
    return { userId: user.id as number, petId: user.pets.id as number, email: user.email as string, client };
  }

  /** Accepts, ends and submits feedback, so the vet leaves wrap-up at once. */
  async function serve(v: VetActor, consultationId: string) {
    await v.accept(consultationId);
    await v.end(consultationId);
    await v.sendFeedback(consultationId, "ok", "ok");
  }

  it("species: a cat goes past the longer-idle dogs-only vet; a dog then goes to that vet", async () => {
    const dogs = await vetOnline({ species: ["dog"] });
    const cats = await vetOnline({ species: ["cat"] });
    const catOwner = await owner("cat");
    const catReq = await catOwner.client.request({ conversation_request: "chat", pet_id: catOwner.petId });
    expect(await cats.client.next("consult:offer")).toMatchObject({
      consultation_id: catReq.consultation_id,
      pet: { species: "cat" },
    });
    await dogs.client.none("consult:offer");

    // The dogs-only vet was free all along: the dog goes to them, not to the busy cat vet.
    const dogOwner = await owner("dog");
    const dogReq = await dogOwner.client.request({ conversation_request: "chat", pet_id: dogOwner.petId });
    expect(await dogs.client.next("consult:offer")).toMatchObject({
      consultation_id: dogReq.consultation_id,
      pet: { species: "dog" },
    });
    await serve(cats.client, catReq.consultation_id);
    await serve(dogs.client, dogReq.consultation_id);
  });

  it("language: es finds the Spanish speaker although an English-only vet has been idle longer", async () => {
    const english = await vetOnline();
    const spanish = await vetOnline({ languages: ["es"] });
    const o = await owner("dog");
    const req = await o.client.request({ conversation_request: "chat", pet_id: o.petId, language: "es" });
    const offer = await spanish.client.next("consult:offer");
    expect(offer).toMatchObject({ consultation_id: req.consultation_id, language: "es" });
    expect(offer).not.toHaveProperty("emergency");
    await english.client.none("consult:offer");
    // The accept and a console opened later (consult:state) carry the language as the offer did.
    const accepted = await spanish.client.accept(req.consultation_id);
    expect(accepted).toMatchObject({ consultation_id: req.consultation_id, language: "es" });
    expect(accepted).not.toHaveProperty("emergency");
    const another = track(await vetActor(t.url, spanish.token, false));
    const state = await another.next("consult:state");
    expect(state).toMatchObject({ consultation_id: req.consultation_id, status: "active", language: "es" });
    expect(state).not.toHaveProperty("emergency");

    // Without a language the longest-idle vet gets it: the English-only vet was eligible.
    const plain = await owner("dog");
    const plainReq = await plain.client.request({ conversation_request: "chat", pet_id: plain.petId });
    const plainOffer = await english.client.next("consult:offer");
    expect(plainOffer.consultation_id).toBe(plainReq.consultation_id);
    expect(plainOffer).not.toHaveProperty("language");
    await serve(spanish.client, req.consultation_id);
    await serve(english.client, plainReq.consultation_id);
  });

  it("language: fr with nobody speaking it goes to any vet once LANGUAGE_WAIT_MS has passed", async () => {
    const english = await vetOnline();
    const o = await owner("dog");
    const t0 = Date.now();
    const req = await o.client.request({ conversation_request: "chat", pet_id: o.petId, language: "fr" });
    await english.client.none("consult:offer", () => true, LANGUAGE_WAIT_MS - 400);
    const offer = await english.client.next("consult:offer", () => true, 5000);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(LANGUAGE_WAIT_MS);
    expect(offer).toMatchObject({ consultation_id: req.consultation_id, language: "fr" });
    await serve(english.client, req.consultation_id);
  });

  it("priority: emergency before protected before normal; positions follow; a normal owner may not ask emergency", async () => {
    const normal = await owner("dog");
    await expect(
      normal.client.request({ conversation_request: "chat", pet_id: normal.petId, emergency: true }),
    ).rejects.toMatchObject({
      kind: "rejected",
      statusCode: 422,
      messages: ["The emergency field is not allowed."],
    });
    expect((await t.gateway.engine.stats()).open_consultations).toBe(0);

    // Queued with no vet online, in the reverse of the serving order.
    const n = await normal.client.request({ conversation_request: "chat", pet_id: normal.petId });
    expect(n.position).toBe(1);
    const prot = await owner("dog", "protect_users");
    const p = await prot.client.request({ conversation_request: "chat", pet_id: prot.petId });
    expect(p.position).toBe(1);
    await normal.client.next("consult:queued", (q) => q.position === 2);
    const emerg = await owner("dog", "protect_users");
    const e = await emerg.client.request({ conversation_request: "chat", pet_id: emerg.petId, emergency: true });
    expect(e.position).toBe(1);
    await prot.client.next("consult:queued", (q) => q.position === 2);
    await normal.client.next("consult:queued", (q) => q.position === 3);

    // One vet comes online and serves them in turn; each accept moves the others up.
    const vet = await vetOnline();
    const first = await vet.client.next("consult:offer");
    expect(first).toMatchObject({ consultation_id: e.consultation_id, emergency: true });
    expect(await vet.client.accept(e.consultation_id)).toMatchObject({
      consultation_id: e.consultation_id,
      emergency: true,
    });
    // A console opened now resumes it with the badge's data (consult:state).
    const reopened = track(await vetActor(t.url, vet.token, false));
    expect(await reopened.next("consult:state")).toMatchObject({ consultation_id: e.consultation_id, emergency: true });
    reopened.close();
    await expect.poll(() => places(prot.client.all("consult:queued")), POLL).toEqual([1, 2, 1]);
    await expect.poll(() => places(normal.client.all("consult:queued")), POLL).toEqual([1, 2, 3, 2]);
    await vet.client.end(e.consultation_id);
    await vet.client.sendFeedback(e.consultation_id, "ok", "ok");

    const second = await vet.client.next("consult:offer", (o) => o.consultation_id !== e.consultation_id);
    expect(second.consultation_id).toBe(p.consultation_id);
    expect(second).not.toHaveProperty("emergency");
    await vet.client.accept(p.consultation_id);
    await expect.poll(() => places(normal.client.all("consult:queued")), POLL).toEqual([1, 2, 3, 2, 1]);
    await vet.client.end(p.consultation_id);
    await vet.client.sendFeedback(p.consultation_id, "ok", "ok");

    const third = await vet.client.next("consult:offer", (o) => o.consultation_id === n.consultation_id);
    expect(third).not.toHaveProperty("emergency");
    await serve(vet.client, n.consultation_id);
    expect(vet.client.all("consult:offer").map((o) => o.consultation_id)).toEqual([
      e.consultation_id,
      p.consultation_id,
      n.consultation_id,
    ]);
    expect(places(emerg.client.all("consult:queued"))).toEqual([1]);
  });

  it("capacity: a vet with max_chats 2 holds two chats at once, and no third", async () => {
    const vet = await vetOnline({ max_chats: 2 });
    const a = await owner("dog");
    const b = await owner("dog");
    const c = await owner("dog");
    const ra = await a.client.request({ conversation_request: "chat", pet_id: a.petId });
    await vet.client.next("consult:offer", (o) => o.consultation_id === ra.consultation_id);
    await vet.client.accept(ra.consultation_id);
    const rb = await b.client.request({ conversation_request: "chat", pet_id: b.petId });
    await vet.client.next("consult:offer", (o) => o.consultation_id === rb.consultation_id);
    await vet.client.accept(rb.consultation_id);
    const matchedA = await a.client.next("consult:matched");
    const matchedB = await b.client.next("consult:matched");
    expect(matchedA.vet.id).toBe(`app-1_vet-${vet.id}`);
    expect(matchedB.vet.id).toBe(`app-1_vet-${vet.id}`);
    expect(matchedA.channel).not.toBe(matchedB.channel);
    await t.gateway.engine.flush();
    for (const id of [ra.consultation_id, rb.consultation_id]) {
      expect((await t.gateway.ctx.repos.ledger.get(id))?.status).toBe("active");
    }

    const rc = await c.client.request({ conversation_request: "chat", pet_id: c.petId });
    expect(rc.position).toBe(1);
    await vet.client.none("consult:offer", (o) => o.consultation_id === rc.consultation_id);
    await a.client.end(ra.consultation_id);
    await b.client.end(rb.consultation_id);
  });

  it("channel: a video waits for a vet holding nothing, a chat behind it is served, and a video is held alone", async () => {
    const vet = await vetOnline({ max_chats: 3 });
    const a = await owner("dog");
    const ra = await a.client.request({ conversation_request: "chat", pet_id: a.petId });
    await vet.client.next("consult:offer");
    await vet.client.accept(ra.consultation_id);

    const video = await owner("dog");
    const rv = await video.client.request({ conversation_request: "video", pet_id: video.petId });
    await vet.client.none("consult:offer", (o) => o.consultation_id === rv.consultation_id);
    // The vet has room for chats: a chat queued behind the video is offered at once.
    const chat = await owner("dog");
    const rc = await chat.client.request({ conversation_request: "chat", pet_id: chat.petId });
    expect(rc.position).toBe(2);
    await vet.client.next("consult:offer", (o) => o.consultation_id === rc.consultation_id);
    await vet.client.accept(rc.consultation_id);
    await vet.client.end(rc.consultation_id);
    await vet.client.none("consult:offer", (o) => o.consultation_id === rv.consultation_id, 200);

    // The last chat ends and wrap-up is done: now the vet holds nothing and gets the video.
    await vet.client.end(ra.consultation_id);
    await vet.client.none("consult:offer", (o) => o.consultation_id === rv.consultation_id, 200);
    await vet.client.sendFeedback(ra.consultation_id, "ok", "ok");
    expect(await vet.client.next("consult:offer", (o) => o.consultation_id === rv.consultation_id)).toMatchObject({
      type: "video",
    });
    await vet.client.accept(rv.consultation_id);

    // A video is held alone: no chat while it lasts, despite max_chats 3.
    const later = await owner("dog");
    const rl = await later.client.request({ conversation_request: "chat", pet_id: later.petId });
    await vet.client.none("consult:offer", (o) => o.consultation_id === rl.consultation_id);
    await vet.client.end(rv.consultation_id);
    await vet.client.sendFeedback(rv.consultation_id, "ok", "ok");
    await vet.client.next("consult:offer", (o) => o.consultation_id === rl.consultation_id);
    await serve(vet.client, rl.consultation_id);
  });

  it("talk-to-vet: emergency only for a subscribed protect_users owner (422 otherwise)", async () => {
    const vet = await vetOnline();
    const normal = await owner("dog");
    const talk = (who: { email: string; petId: number }, extra: Record<string, unknown>) =>
      app.call("POST", "/talk-to-vet", { email: who.email, conversation_request: "chat", pet_id: who.petId, ...extra });
    expectError(await talk(normal, { emergency: true }), 422, "The emergency field is not allowed.");
    await vet.client.none("consult:assigned", () => true, 100);
    expect((await t.gateway.engine.stats()).open_consultations).toBe(0);

    const prot = await owner("dog", "protect_users");
    const ok = await talk(prot, { emergency: true });
    expect(ok.status, JSON.stringify(ok.body)).toBe(200);
    const assigned = await vet.client.next("consult:assigned");
    expect(assigned).toMatchObject({ channel: ok.body.data.channel, user: { id: prot.userId } });
    expect((await app.call("POST", "/end", { channel_sid: ok.body.data.channel })).status).toBe(200);
    await vet.client.next("consult:ended");
  });

  it("PATCH /admin/v1/vets/{id} species while the vet is online changes routing at once", async () => {
    const vet = await vetOnline({ species: ["dog"] });
    const o = await owner("cat");
    const req = await o.client.request({ conversation_request: "chat", pet_id: o.petId });
    await vet.client.none("consult:offer");
    const patched = await request(t.url, "PATCH", `/admin/v1/vets/${String(vet.id)}`, {
      body: { species: ["dog", "cat"] },
      headers: admin,
    });
    expect(patched.status, JSON.stringify(patched.body)).toBe(200);
    // No reconnect needed: the PATCH runs a routing pass with the new skills before it answers.
    expect(await vet.client.next("consult:offer", () => true, 2000)).toMatchObject({
      consultation_id: req.consultation_id,
    });
    await serve(vet.client, req.consultation_id);
  });
});

describe("routing skills on two nodes sharing Redis", () => {
  let t: TestGateway;
  let app: AppClient;
  const clients: Closable[] = [];
  beforeAll(async () => {
    t = await startTestGateway({ redis: true, nodes: 2, env: { USER_GRACE_MS: "0" } });
    app = await createAppClient(t);
  });
  afterAll(async () => {
    for (const c of clients) if (c instanceof OwnerActor) c.close();
    for (const c of clients) if (!(c instanceof OwnerActor)) c.close();
    await t?.close();
  });

  it("a console opened on another node after a PATCH keeps the new skills (no stale copy of the vet)", async () => {
    const body = {
      email: email("vet"),
      password: "password-123",
      first_name: "Vet",
      last_name: "Two",
      species: ["dog"],
    };
    const created = await request(t.url, "POST", "/admin/v1/vets", { body, headers: admin });
    expect(created.status).toBe(201);
    const token = (
      await request(t.urls[1], "POST", "/vet/v1/login", { body: { email: body.email, password: body.password } })
    ).body.data.token as string;
    // The first console is on node 1; the PATCH goes to node 0.
    const first = await vetActor(t.urls[1], token);
    clients.push(first);
    const patched = await request(t.urls[0], "PATCH", `/admin/v1/vets/${String(created.body.data.id)}`, {
      body: { species: ["cat"] },
      headers: admin,
    });
    expect(patched.status).toBe(200);
    // A second console (another tab, a reload) on node 1.
    const second = await vetActor(t.urls[1], token);
    clients.push(second);

    const reg = await app.call("POST", "/register-user", {
      first_name: "Owner",
      email: email("owner"),
      role: "users",
      pet: { name: "Tom", species: "cat" },
    });
    expect(reg.status).toBe(200);
    const o = await ownerActor(t.urls[0], reg.body.data.socket_token.token as string);
    clients.push(o);
    const req = await o.request({ conversation_request: "chat", pet_id: reg.body.data.user.pets.id as number });
    expect(await second.next("consult:offer")).toMatchObject({
      consultation_id: req.consultation_id,
      pet: { species: "cat" },
    });
    await second.accept(req.consultation_id);
    await second.end(req.consultation_id);
  });

  /**
   * The race of a connecting vet: node 1 reads the vet's skills, node 0 records a PATCH and
   * tells routing, then node 1 writes what it read. Driven by holding node 1's read until the
   * PATCH has been answered. Once for a vet routing does not know yet, once for one it knows
   * (connected before, offline now).
   */
  it.each([
    { known: false, label: "first connection" },
    { known: true, label: "reconnection" },
  ])(
    "a PATCH on another node between a connecting vet's skills read and its store write is kept ($label)",
    async ({ known }) => {
      const body = {
        email: email("vet"),
        password: "password-123",
        first_name: "Vet",
        last_name: "Race",
        species: ["dog"],
      };
      const created = await request(t.url, "POST", "/admin/v1/vets", { body, headers: admin });
      expect(created.status).toBe(201);
      const vetId = created.body.data.id as number;
      const token = (
        await request(t.urls[1], "POST", "/vet/v1/login", { body: { email: body.email, password: body.password } })
      ).body.data.token as string;
      const node1 = t.gateways[1];
      if (known) {
        const offline = async () => (await node1.engine.stats()).vets.offline ?? 0;
        const offlineBefore = await offline();
        const before = await vetActor(t.urls[1], token);
        before.close();
        await expect.poll(offline, { timeout: 5000 }).toBe(offlineBefore + 1);
      }

      // Node 1's vet read inside vetConnected returns the row as it was, after the PATCH on node 0 is done.
      const { engine } = node1;
      const vets = node1.ctx.repos.vets;
      const connect = engine.vetConnected.bind(engine);
      const findById = vets.findById.bind(vets);
      let connecting = false;
      let patchedInBetween: number | null = null;
      engine.vetConnected = async (id, connId) => {
        connecting = id === vetId;
        try {
          return await connect(id, connId);
        } finally {
          connecting = false;
        }
      };
      vets.findById = async (id) => {
        const row = await findById(id);
        if (connecting && id === vetId && patchedInBetween === null) {
          const patched = await request(t.urls[0], "PATCH", `/admin/v1/vets/${String(vetId)}`, {
            body: { species: ["cat"] },
            headers: admin,
          });
          patchedInBetween = patched.status;
          expect(row?.species).toEqual(["dog"]);
        }
        return row;
      };
      let vet: VetActor;
      try {
        vet = await vetActor(t.urls[1], token);
        clients.push(vet);
      } finally {
        engine.vetConnected = connect;
        vets.findById = findById;
      }
      expect(patchedInBetween).toBe(200);

      // Routing has the PATCHed skills: a cat reaches the vet.
      const reg = await app.call("POST", "/register-user", {
        first_name: "Owner",
        email: email("owner"),
        role: "users",
        pet: { name: "Tom", species: "cat" },
      });
      expect(reg.status).toBe(200);
      const o = await ownerActor(t.urls[0], reg.body.data.socket_token.token as string);
      clients.push(o);
      const req = await o.request({ conversation_request: "chat", pet_id: reg.body.data.user.pets.id as number });
      expect(await vet.next("consult:offer", () => true, 5000)).toMatchObject({
        consultation_id: req.consultation_id,
        pet: { species: "cat" },
      });
      await vet.accept(req.consultation_id);
      await vet.end(req.consultation_id);
    },
  );
});
