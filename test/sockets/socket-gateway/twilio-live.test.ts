/**
 * TWILIO_MODE=live against a local fake Twilio: the exact REST calls of a consultation's
 * life, and a Twilio outage that is retried, reported, and leaves the consultation intact.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ownerActor, seedApp, seedUser, seedVet, userClient, vetActor, vetClient } from "../../support/actors.js";
import { LIVE_TWILIO, liveTwilioEnv, startFakeTwilio, type FakeTwilio } from "../../support/fake-twilio.js";
import { request, startTestGateway, type TestGateway } from "../../support/gateway.js";

const { key: KEY, chatService: CHAT } = LIVE_TWILIO;

describe("live Twilio mode", () => {
  let fake: FakeTwilio;
  let t: TestGateway;

  beforeAll(async () => {
    fake = await startFakeTwilio();
    t = await startTestGateway({
      env: {
        ...liveTwilioEnv(fake),
        WRAPUP_MS: "0",
        USER_GRACE_MS: "0",
      },
      twilioRetry: { attempts: 3, baseDelayMs: 5 },
    });
  });
  afterAll(async () => {
    await t.close();
    await fake.close();
  });

  const calls = () => fake.requests.filter((r) => r.status > 0 && r.status < 300).map((r) => `${r.method} ${r.path}`);

  it("accept creates the Conversation with both participants; call:start a group room; end closes both", async () => {
    const app = await seedApp(t.gateway);
    const vet = await seedVet(t.gateway);
    const user = await seedUser(t.gateway, app.id);
    const v = await vetActor(t.url, vet.token);
    const u = await ownerActor(t.url, user.token);
    fake.requests.length = 0;

    const data = await u.request({ conversation_request: "video", pet_id: user.petId });
    await v.next("consult:offer");
    const acc = await v.accept(data.consultation_id);
    const conv = fake.requests.find(
      (r) => r.path === `/conversations/v1/Services/${CHAT}/Conversations` && r.method === "POST",
    )!;
    expect(conv.body).toMatchObject({ UniqueName: data.consultation_id });
    expect(conv.user).toBe(KEY);
    expect(acc.channel).toMatch(/^CH/);
    const participants = fake.requests.filter((r) => r.path.endsWith(`/Conversations/${acc.channel}/Participants`));
    expect(participants.map((p) => p.body.Identity)).toEqual([
      `local-app-${app.id}_user-${user.userId}`,
      `app-1_vet-${vet.id}`,
    ]);
    expect((await u.next("consult:matched")).channel).toBe(acc.channel);

    const call = await v.startCall(data.consultation_id);
    const room = fake.requests.find((r) => r.path === "/video/v1/Rooms" && r.method === "POST")!;
    expect(room.body).toMatchObject({ UniqueName: data.consultation_id, Type: "group" });
    expect(call.room_sid).toMatch(/^RM/);

    await u.end(data.consultation_id);
    await expect.poll(() => calls()).toContain(`POST /video/v1/Rooms/${call.room_sid}`);
    await expect.poll(() => calls()).toContain(`POST /conversations/v1/Services/${CHAT}/Conversations/${acc.channel}`);
    const closeConv = fake.requests.find(
      (r) => r.path === `/conversations/v1/Services/${CHAT}/Conversations/${acc.channel}`,
    )!;
    expect(closeConv.body).toMatchObject({ State: "closed" });
    const completeRoom = fake.requests.find((r) => r.path === `/video/v1/Rooms/${call.room_sid}`)!;
    expect(completeRoom.body).toMatchObject({ Status: "completed" });
    expect(calls()).toEqual([
      `POST /conversations/v1/Services/${CHAT}/Conversations`,
      `POST /conversations/v1/Services/${CHAT}/Conversations/${acc.channel}/Participants`,
      `POST /conversations/v1/Services/${CHAT}/Conversations/${acc.channel}/Participants`,
      `POST /video/v1/Rooms`,
      ...calls().slice(4), // closing order is not fixed: both happen in the background
    ]);
    expect(calls()).toHaveLength(6);
    v.close();
    u.close();
  });

  it("a Twilio outage is retried, then answered with 502; the consultation stays active and a retried accept succeeds", async () => {
    const app = await seedApp(t.gateway);
    const vet = await seedVet(t.gateway);
    const user = await seedUser(t.gateway, app.id);
    const v = await vetActor(t.url, vet.token);
    const u = await ownerActor(t.url, user.token);
    const data = await u.request({ conversation_request: "chat", pet_id: user.petId });
    await v.next("consult:offer");

    fake.requests.length = 0;
    fake.failNext(3, 503);
    await expect(v.accept(data.consultation_id)).rejects.toMatchObject({ kind: "rejected", statusCode: 502 });
    expect(fake.requests.filter((r) => r.status === 503)).toHaveLength(3); // retried with backoff
    const live = await t.gateway.engine.stats();
    expect(live.open_consultations).toBe(1);
    await u.none("consult:matched", () => true, 100);

    const retried = await v.accept(data.consultation_id);
    expect((await u.next("consult:matched")).channel).toBe(retried.channel);
    await v.end(data.consultation_id);
    v.close();
    u.close();
  });

  it("chat stays on Twilio Conversations (PROTOCOL §10): chat:send is 409 on both sides, nothing is stored or replayed", async () => {
    const app = await seedApp(t.gateway);
    const vet = await seedVet(t.gateway);
    const user = await seedUser(t.gateway, app.id);
    const v = await vetActor(t.url, vet.token);
    const u = await ownerActor(t.url, user.token);
    const data = await u.request({ conversation_request: "chat", pet_id: user.petId });
    await v.next("consult:offer");
    const acc = await v.accept(data.consultation_id);
    expect(acc).not.toHaveProperty("messages");
    const live = {
      success: false,
      status_code: 409,
      message: ["Chat runs on Twilio Conversations in live mode."],
      data: [],
    };
    const rawOwner = await userClient(t.url, user.token);
    const state = await rawOwner.next("consult:state");
    expect(state).not.toHaveProperty("messages");
    expect(await rawOwner.ask("chat:send", { consultation_id: data.consultation_id, text: "hello" })).toEqual(live);
    const rawVet = await vetClient(t.url, vet.token, false);
    expect((await rawVet.next("consult:state")).messages).toBeUndefined();
    expect(await rawVet.ask("chat:send", { consultation_id: data.consultation_id, text: "hello" })).toEqual(live);
    // Nothing stored; the vet's endpoint has nothing to page.
    const stored = await request(t.url, "GET", `/vet/v1/consultations/${data.consultation_id}/messages`, {
      headers: { authorization: `Bearer ${vet.token}` },
    });
    expect(stored.body.data).toEqual({ messages: [], next_before: null });
    await u.end(data.consultation_id);
    for (const c of [rawOwner, rawVet, u, v]) c.close();
  });
});
