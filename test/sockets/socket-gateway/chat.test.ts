/**
 * PROTOCOL §10 "Chat without Twilio" end to end (offline Twilio mode): `chat:send` on `/user`
 * and `/vet`, stored first and relayed as `chat:message` to the owner and the vet on every
 * node; the conversation replayed in `consult:state` (console reload, owner reconnect) and in
 * the next vet's accept after a hand-over; `GET /vet/v1/consultations/{id}/messages` with
 * paging and its access rule; the errors (422, 404, 409). Each routing store; the Redis one
 * with two gateway nodes, the owner on one and the vet on the other. Real PostgreSQL.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  OwnerActor,
  ownerActor,
  seedApp,
  seedUser,
  seedVet,
  TestClient,
  userClient,
  vetActor,
  vetClient,
  type VetActor,
} from "../../support/actors.js";
import { request, startTestGateway, type TestGateway } from "../../support/gateway.js";

type Closable = TestClient | VetActor | OwnerActor;
const isOwner = (c: Closable) => c instanceof OwnerActor || (c instanceof TestClient && c.ns === "/user");
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
/** Long enough for a console reload, short enough to watch a hand-over. */
const VET_GRACE_MS = 1500;

describe.each([
  { store: "memory", redis: false, nodes: 1 },
  { store: "redis", redis: true, nodes: 2 },
])("chat without Twilio ($store store, $nodes node(s))", ({ redis, nodes }) => {
  let t: TestGateway;
  let app: Awaited<ReturnType<typeof seedApp>>;
  const clients: Closable[] = [];
  const track = <T extends Closable>(c: T): T => {
    clients.push(c);
    return c;
  };
  /** The owner's node and the vet's node: different ones on Redis. */
  const ownerUrl = () => t.urls[0];
  const vetUrl = () => t.urls[nodes - 1];

  beforeAll(async () => {
    t = await startTestGateway({
      redis,
      nodes,
      env: {
        USER_GRACE_MS: "0",
        VET_GRACE_MS: String(VET_GRACE_MS),
        SOCKET_EVENTS_PER_S: "200",
        TWILIO_MODE: "offline",
      },
    });
    app = await seedApp(t.gateway);
  });
  afterEach(async () => {
    const all = clients.splice(0);
    for (const c of all) if (isOwner(c)) c.close();
    for (const c of all) if (!isOwner(c)) c.close();
    await expect.poll(async () => (await t.gateway.engine.stats()).open_consultations, { timeout: 8000 }).toBe(0);
  });
  afterAll(() => t?.close());

  /** An owner and a vet in an active chat consultation (owner on node 0, vet on the last node). */
  async function activeChat() {
    const vet = await seedVet(t.gateway);
    const user = await seedUser(t.gateway, app.id);
    const v = track(await vetActor(vetUrl(), vet.token));
    const o = track(await ownerActor(ownerUrl(), user.token));
    const { consultation_id: id } = await o.request({ conversation_request: "chat", pet_id: user.petId });
    await v.next("consult:offer", (p) => p.consultation_id === id);
    const accepted = await v.accept(id);
    await o.next("consult:matched");
    return { vet, user, v, o, id, accepted };
  }

  const messagesOf = (id: string, token: string, query = "") =>
    request(t.url, "GET", `/vet/v1/consultations/${id}/messages${query}`, {
      headers: { authorization: `Bearer ${token}` },
    });

  it("owner ↔ vet: each message is stored, acknowledged and relayed to both sides (across nodes on Redis)", async () => {
    const { vet, user, v, o, id, accepted } = await activeChat();
    // A fresh consultation: the accept carries the (empty) conversation so far.
    expect(accepted.messages).toEqual([]);
    // The owner has a second socket on the vet's node: it hears the chat too.
    const o2 = track(await ownerActor(vetUrl(), user.token));
    await o2.next("consult:state");

    const sent = await o.sendChat(id, "  She has been limping since this morning.  ");
    expect(sent).toEqual({
      id: expect.any(String),
      author: "owner",
      author_name: `Owner${user.email.slice("owner-".length, user.email.indexOf("@"))} Test`,
      text: "She has been limping since this morning.",
      created_at: expect.stringMatching(ISO),
    });
    const atVet = await v.next("chat:message");
    expect(atVet).toEqual({ consultation_id: id, message: sent });
    expect(await o.next("chat:message")).toEqual({ consultation_id: id, message: sent });
    expect(await o2.next("chat:message")).toEqual({ consultation_id: id, message: sent });

    const reply = await v.sendChat(id, "Is she putting any weight on the leg?\nAnd since when?");
    expect(reply).toMatchObject({
      author: "vet",
      author_name: `${vet.firstName} ${vet.lastName}`,
      text: "Is she putting any weight on the leg?\nAnd since when?",
    });
    expect(BigInt(reply.id)).toBeGreaterThan(BigInt(sent.id));
    expect(await o.next("chat:message", (p) => p.message.id === reply.id)).toEqual({
      consultation_id: id,
      message: reply,
    });
    expect(await o2.next("chat:message", (p) => p.message.id === reply.id)).toEqual({
      consultation_id: id,
      message: reply,
    });
    expect(await v.next("chat:message", (p) => p.message.id === reply.id)).toEqual({
      consultation_id: id,
      message: reply,
    });
    // Stored (record first): the vet's endpoint has both, oldest first.
    const stored = await messagesOf(id, vet.token);
    expect(stored.status).toBe(200);
    expect(stored.body.data).toEqual({ messages: [sent, reply], next_before: null });
  });

  it("replays the conversation in consult:state after a console reload and an owner reconnect (last 100, oldest first)", async () => {
    const { vet, user, v, o, id } = await activeChat();
    const first = await o.sendChat(id, "Hello doctor");
    const second = await v.sendChat(id, "Hello, how can I help?");
    // The console reloads: the old socket goes, a new one comes (within VET_GRACE_MS).
    v.close();
    const v2 = track(await vetActor(vetUrl(), vet.token, false));
    const state = await v2.next("consult:state", (s) => s.consultation_id === id);
    expect(state.messages).toEqual([first, second]);
    // The owner's app reconnects on the other node.
    o.close();
    const o2 = track(await ownerActor(vetUrl(), user.token));
    const ownerState = await o2.next("consult:state");
    expect(ownerState).toMatchObject({ consultation_id: id, status: "active" });
    expect(ownerState.messages).toEqual([first, second]);

    // Only the last 100 come back, oldest first: 101 stored in all, the first one drops out.
    for (let i = 0; i < 99; i++) await o2.sendChat(id, `message ${i}`);
    const v3 = track(await vetActor(vetUrl(), vet.token, false));
    const replay = (await v3.next("consult:state", (s) => s.consultation_id === id)).messages;
    expect(replay).toHaveLength(100);
    expect(replay[0].text).toBe("Hello, how can I help?");
    expect(replay.at(-1).text).toBe("message 98");
    expect(replay.map((m: { id: string }) => BigInt(m.id))).toEqual(
      replay.map((m: { id: string }) => BigInt(m.id)).sort((a: bigint, b: bigint) => (a < b ? -1 : 1)),
    );
  });

  it("a vet taking over after vet_left sees the conversation in the accept; the first vet can still read it, a stranger cannot", async () => {
    const { vet, user, v, o, id } = await activeChat();
    await o.sendChat(id, "Are you still there?");
    const said = await v.sendChat(id, "Yes — checking her records.");
    const next = await seedVet(t.gateway);
    const v2 = track(await vetActor(vetUrl(), next.token));
    v.close(); // does not come back within VET_GRACE_MS
    expect(await o.next("consult:queued", (q) => q.reason === "vet_left", 10_000)).toMatchObject({
      consultation_id: id,
    });
    const offer = await v2.next("consult:offer", (p) => p.consultation_id === id, 10_000);
    expect(offer.transferred).toBe(true);
    // While it waits again the chat is closed: 409.
    const raw = track(await userClient(ownerUrl(), user.token));
    // An owner's app that reconnects while it waits again gets the conversation so far.
    const waiting = await raw.next("consult:state");
    expect(waiting).toMatchObject({ consultation_id: id, status: "offered" }); // offered to the next vet
    expect(waiting.messages.map((m: { text: string }) => m.text)).toEqual([
      "Are you still there?",
      "Yes — checking her records.",
    ]);
    expect(await raw.ask("chat:send", { consultation_id: id, text: "hello?" })).toMatchObject({
      status_code: 409,
      message: ["The consultation is not active."],
    });
    const taken = await v2.accept(id);
    expect(taken.messages?.map((m) => m.text)).toEqual(["Are you still there?", "Yes — checking her records."]);
    expect(taken.messages?.[1]).toEqual(said);
    // The new vet and the owner talk; the first vet gets nothing more.
    const hi = await v2.sendChat(id, "Hello, I am taking over from my colleague.");
    expect((await o.next("chat:message", (p) => p.message.id === hi.id)).message.author_name).toBe(
      `${next.firstName} ${next.lastName}`,
    );

    // The endpoint: the vet who held it and the one who holds it read it; a stranger gets 404.
    expect((await messagesOf(id, vet.token)).body.data.messages).toHaveLength(3);
    expect((await messagesOf(id, next.token)).body.data.messages).toHaveLength(3);
    const stranger = await seedVet(t.gateway);
    const refused = await messagesOf(id, stranger.token);
    expect(refused.status).toBe(404);
    expect(refused.body.message).toEqual(["Consultation not found"]);
    expect((await messagesOf("00000000-0000-4000-8000-000000000000", next.token)).status).toBe(404);
    expect((await messagesOf("not-a-uuid", next.token)).status).toBe(404);
    expect((await request(t.url, "GET", `/vet/v1/consultations/${id}/messages`)).status).toBe(401);
  });

  it("GET messages pages newest first, each page oldest first, with next_before as the cursor", async () => {
    const { vet, o, id } = await activeChat();
    const sent = [];
    for (let i = 1; i <= 5; i++) sent.push(await o.sendChat(id, `m${i}`));
    const p1 = await messagesOf(id, vet.token, "?limit=2");
    expect(p1.body.data).toEqual({ messages: [sent[3], sent[4]], next_before: sent[3].id });
    const p2 = await messagesOf(id, vet.token, `?limit=2&before=${p1.body.data.next_before}`);
    expect(p2.body.data).toEqual({ messages: [sent[1], sent[2]], next_before: sent[1].id });
    const p3 = await messagesOf(id, vet.token, `?limit=2&before=${p2.body.data.next_before}`);
    expect(p3.body.data).toEqual({ messages: [sent[0]], next_before: null });
    // A page that ends exactly at the first message says so.
    expect((await messagesOf(id, vet.token, `?limit=1&before=${sent[1].id}`)).body.data).toEqual({
      messages: [sent[0]],
      next_before: null,
    });
    expect((await messagesOf(id, vet.token)).body.data.messages).toEqual(sent);
    const bad = await messagesOf(id, vet.token, "?limit=101");
    expect(bad.status).toBe(422);
    expect(bad.body.message).toEqual(["The limit must not be greater than 100."]);
    expect((await messagesOf(id, vet.token, "?before=abc")).body.message).toEqual(["The before must be a message id."]);
  });

  it("422 for an empty or too long text, 404 for a stranger or an unknown consultation, 409 once ended; nothing stored", async () => {
    const { vet, user, id } = await activeChat();
    const owner = track(await userClient(ownerUrl(), user.token));
    await owner.next("consult:state");
    const vetRaw = track(await vetClient(vetUrl(), vet.token, false));
    expect(await owner.ask("chat:send", { consultation_id: id, text: "x".repeat(4001) })).toEqual({
      success: false,
      status_code: 422,
      message: ["The text must not be greater than 4000 characters."],
      data: [],
    });
    expect(await vetRaw.ask("chat:send", { consultation_id: id, text: " \n\t " })).toMatchObject({
      status_code: 422,
      message: ["The text field is required."],
    });
    expect(await owner.ask("chat:send", { consultation_id: id })).toMatchObject({
      status_code: 422,
      message: ["The text field is required."],
    });
    // Exactly 4000 characters is fine (after trimming).
    const longest = await owner.ask("chat:send", { consultation_id: id, text: ` ${"y".repeat(4000)} ` });
    expect(longest).toMatchObject({ success: true, status_code: 200 });
    expect(longest.data.text).toHaveLength(4000);
    // Characters are code points: 4000 emoji (8000 UTF-16 units) fit, one more does not.
    const paws = await owner.ask("chat:send", { consultation_id: id, text: "🐾".repeat(4000) });
    expect(paws).toMatchObject({ success: true, status_code: 200 });
    expect(await owner.ask("chat:send", { consultation_id: id, text: "🐾".repeat(4001) })).toMatchObject({
      status_code: 422,
      message: ["The text must not be greater than 4000 characters."],
    });

    const otherUser = await seedUser(t.gateway, app.id);
    const stranger = track(await userClient(ownerUrl(), otherUser.token));
    const otherVet = await seedVet(t.gateway);
    const strangerVet = track(await vetClient(vetUrl(), otherVet.token, false));
    const notFound = { success: false, status_code: 404, message: ["Consultation not found"], data: [] };
    expect(await stranger.ask("chat:send", { consultation_id: id, text: "hi" })).toEqual(notFound);
    expect(await strangerVet.ask("chat:send", { consultation_id: id, text: "hi" })).toEqual(notFound);
    expect(
      await owner.ask("chat:send", { consultation_id: "00000000-0000-4000-8000-000000000000", text: "hi" }),
    ).toEqual(notFound);

    await owner.ask("consult:end", { consultation_id: id });
    const ended = { success: false, status_code: 409, message: ["The consultation is not active."], data: [] };
    expect(await owner.ask("chat:send", { consultation_id: id, text: "one more thing" })).toEqual(ended);
    expect(await vetRaw.ask("chat:send", { consultation_id: id, text: "one more thing" })).toEqual(ended);
    // Still 404 for strangers once ended (nothing about it is revealed).
    expect(await stranger.ask("chat:send", { consultation_id: id, text: "hi" })).toEqual(notFound);
    const stored = await messagesOf(id, vet.token);
    expect(stored.body.data.messages).toHaveLength(2);
  });

  it("a waiting request has no chat yet: 409", async () => {
    const user = await seedUser(t.gateway, app.id);
    const o = track(await userClient(ownerUrl(), user.token));
    const req = await o.ask("consult:request", { conversation_request: "chat", pet_id: user.petId });
    expect(await o.ask("chat:send", { consultation_id: req.data.consultation_id, text: "hello" })).toMatchObject({
      status_code: 409,
      message: ["The consultation is not active."],
    });
  });

  it("REST talk-to-vet: consult:assigned carries the conversation so far (none yet)", async () => {
    const vet = await seedVet(t.gateway);
    const user = await seedUser(t.gateway, app.id);
    const v = track(await vetActor(vetUrl(), vet.token));
    const res = await request(t.url, "POST", `/api/v2/${app.name}/talk-to-vet`, {
      headers: { authorization: `Basic ${Buffer.from(`${app.name}:${app.secret}`).toString("base64")}` },
      body: { email: user.email, conversation_request: "chat", pet_id: user.petId },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const assigned = await v.next("consult:assigned");
    expect(assigned.messages).toEqual([]);
    const o = track(await ownerActor(ownerUrl(), user.token));
    const state = await o.next("consult:state");
    const hello = await o.sendChat(state.consultation_id, "Hello from the partner app");
    expect((await v.next("chat:message")).message).toEqual(hello);
    await v.end(state.consultation_id);
  });
});

describe("chat:send and the per-socket event limit", () => {
  let t: TestGateway;
  beforeAll(async () => {
    t = await startTestGateway({
      db: "pglite",
      env: { SOCKET_EVENTS_PER_S: "5", SOCKET_FLOOD_DISCONNECT_S: "5", USER_GRACE_MS: "0" },
    });
  });
  afterAll(() => t?.close());

  it("chat messages count against the bucket: over it they get 429 and are neither stored nor relayed", async () => {
    const app = await seedApp(t.gateway);
    const vet = await seedVet(t.gateway);
    const user = await seedUser(t.gateway, app.id);
    const v = await vetActor(t.url, vet.token);
    const o = await userClient(t.url, user.token);
    const req = await o.ask("consult:request", { conversation_request: "chat", pet_id: user.petId });
    const id = req.data.consultation_id as string;
    await v.next("consult:offer");
    await v.accept(id);
    await new Promise((r) => setTimeout(r, 2100)); // the bucket refills (burst included)
    const acks = await Promise.all(
      Array.from({ length: 30 }, (_, i) => o.ask("chat:send", { consultation_id: id, text: `flood ${i}` })),
    );
    const sent = acks.filter((a) => a.success);
    const limited = acks.filter((a) => a.status_code === 429);
    expect(sent.length + limited.length).toBe(30);
    // 5 a second plus a burst of 5 more.
    expect(sent.length).toBeGreaterThan(0);
    expect(sent.length).toBeLessThanOrEqual(10);
    expect(limited[0]).toEqual({ success: false, status_code: 429, message: ["Too Many Requests"], data: [] });
    const stored = await request(t.url, "GET", `/vet/v1/consultations/${id}/messages?limit=100`, {
      headers: { authorization: `Bearer ${vet.token}` },
    });
    expect(stored.body.data.messages.map((m: { id: string }) => m.id)).toEqual(sent.map((a) => a.data.id));
    await v.none("chat:message", (p) => !sent.some((a) => a.data.id === p.message.id), 300);
    expect(v.all("chat:message")).toHaveLength(sent.length);
    o.close();
    v.close();
  });
});
