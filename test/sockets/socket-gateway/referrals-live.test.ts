/**
 * PROTOCOL §10 referrals in `TWILIO_MODE=live` against the local fake Twilio: the next vet is
 * added to the consultation's Conversation; warm, the first vet stays a participant until
 * `consult:leave`; cold, it is removed at once. No second Conversation.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { seedApp, seedUser, seedVet, userClient, vetClient, type TestClient } from "../../support/actors.js";
import { LIVE_TWILIO, liveTwilioEnv, startFakeTwilio, type FakeTwilio } from "../../support/fake-twilio.js";
import { startTestGateway, type TestGateway } from "../../support/gateway.js";

const CHAT = LIVE_TWILIO.chatService;

describe("referrals in live Twilio mode", () => {
  let fake: FakeTwilio;
  let t: TestGateway;
  const clients: TestClient[] = [];

  beforeAll(async () => {
    fake = await startFakeTwilio();
    t = await startTestGateway({
      env: { ...liveTwilioEnv(fake), WRAPUP_MS: "0", USER_GRACE_MS: "0" },
      twilioRetry: { attempts: 3, baseDelayMs: 5 },
    });
  });
  afterEach(() => {
    // Vets of one test are never free vets of the next.
    for (const c of clients.splice(0)) c.close();
  });
  afterAll(async () => {
    await t.close();
    await fake.close();
  });

  async function setup() {
    const app = await seedApp(t.gateway);
    const first = await seedVet(t.gateway);
    const owner = await seedUser(t.gateway, app.id);
    const a = await vetClient(t.url, first.token);
    const u = await userClient(t.url, owner.token);
    const { data } = await u.ask("consult:request", { conversation_request: "chat", pet_id: owner.petId });
    await a.next("consult:offer");
    const channel = (await a.ask("consult:accept", { consultation_id: data.consultation_id })).data.channel as string;
    const second = await seedVet(t.gateway);
    const b = await vetClient(t.url, second.token);
    clients.push(a, u, b);
    const userIdentity = `local-app-${app.id}_user-${owner.userId}`;
    expect(fake.participants(channel)).toEqual([userIdentity, `app-1_vet-${first.id}`]);
    return { id: data.consultation_id as string, channel, a, b, u, first, second, userIdentity };
  }

  it("warm: both vets are participants until the first leaves; the same Conversation throughout", async () => {
    const { id, channel, a, b, u, first, second, userIdentity } = await setup();
    await a.ask("consult:transfer", { consultation_id: id, to: { vet_email: second.email }, note: "", mode: "warm" });
    await b.next("consult:offer", (p) => p.consultation_id === id);
    const acc = await b.ask("consult:accept", { consultation_id: id });
    expect(acc).toMatchObject({ status_code: 200, data: { channel } });
    expect(fake.participants(channel)).toEqual([userIdentity, `app-1_vet-${first.id}`, `app-1_vet-${second.id}`]);
    await u.next("consult:transferred");
    expect((await a.ask("consult:leave", { consultation_id: id })).status_code).toBe(200);
    await expect.poll(() => fake.participants(channel)).toEqual([userIdentity, `app-1_vet-${second.id}`]);
    const creates = fake.requests.filter(
      (r) => r.method === "POST" && r.path === `/conversations/v1/Services/${CHAT}/Conversations`,
    );
    expect(creates.filter((r) => r.body.UniqueName === id)).toHaveLength(1);
    await b.ask("consult:end", { consultation_id: id });
  });

  it("cold: the first vet is removed at once", async () => {
    const { id, channel, a, b, first, second, userIdentity } = await setup();
    await a.ask("consult:transfer", { consultation_id: id, to: { vet_email: second.email }, note: "", mode: "cold" });
    await b.next("consult:offer", (p) => p.consultation_id === id);
    expect((await b.ask("consult:accept", { consultation_id: id })).status_code).toBe(200);
    await expect.poll(() => fake.participants(channel)).toEqual([userIdentity, `app-1_vet-${second.id}`]);
    expect(fake.participants(channel)).not.toContain(`app-1_vet-${first.id}`);
    await b.ask("consult:end", { consultation_id: id });
  });

  it("a Twilio failure adding the next vet answers 502 with the hand-over kept; the retried accept adds them", async () => {
    const { id, channel, a, b, second } = await setup();
    await a.ask("consult:transfer", { consultation_id: id, to: { vet_email: second.email }, note: "", mode: "warm" });
    await b.next("consult:offer", (p) => p.consultation_id === id);
    const identity = `app-1_vet-${second.id}`;
    fake.failNext(3, 503, (r) => r.body.Identity === identity);
    expect(await b.ask("consult:accept", { consultation_id: id })).toMatchObject({ success: false, status_code: 502 });
    expect(fake.participants(channel)).not.toContain(identity);
    expect(await b.ask("consult:accept", { consultation_id: id })).toMatchObject({
      status_code: 200,
      data: { channel },
    });
    expect(fake.participants(channel)).toContain(identity);
    await a.ask("consult:leave", { consultation_id: id });
    await b.ask("consult:end", { consultation_id: id });
  });
});
