/**
 * PROTOCOL §4 hand-over in `TWILIO_MODE=live` against the local fake Twilio: the next vet
 * joins the same Conversation (added as a participant), the old vet is removed, and no
 * second Conversation is created.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { seedApp, seedUser, seedVet, userClient, vetClient } from "../../support/actors.js";
import { LIVE_TWILIO, liveTwilioEnv, startFakeTwilio, type FakeTwilio } from "../../support/fake-twilio.js";
import { startTestGateway, type TestGateway } from "../../support/gateway.js";

const CHAT = LIVE_TWILIO.chatService;

describe("hand-over in live Twilio mode", () => {
  let fake: FakeTwilio;
  let t: TestGateway;

  beforeAll(async () => {
    fake = await startFakeTwilio();
    t = await startTestGateway({
      env: {
        ...liveTwilioEnv(fake),
        VET_GRACE_MS: "400",
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

  it("the next vet is added to the same Conversation and the old one removed; no second Conversation", async () => {
    const app = await seedApp(t.gateway);
    const first = await seedVet(t.gateway);
    const owner = await seedUser(t.gateway, app.id);
    const v1 = await vetClient(t.url, first.token);
    const u = await userClient(t.url, owner.token);
    const { data } = await u.ask("consult:request", { conversation_request: "chat", pet_id: owner.petId });
    await v1.next("consult:offer");
    const acc = await v1.ask("consult:accept", { consultation_id: data.consultation_id });
    const channel = acc.data.channel as string;
    const userIdentity = `local-app-${app.id}_user-${owner.userId}`;
    expect(fake.participants(channel)).toEqual([userIdentity, `app-1_vet-${first.id}`]);

    v1.close();
    await u.next("consult:queued", (p) => p.reason === "vet_left", 5000);
    await expect.poll(() => fake.participants(channel)).toEqual([userIdentity]);

    const second = await seedVet(t.gateway);
    const v2 = await vetClient(t.url, second.token);
    expect(await v2.next("consult:offer")).toMatchObject({ consultation_id: data.consultation_id, transferred: true });
    const acc2 = await v2.ask("consult:accept", { consultation_id: data.consultation_id });
    expect(acc2.status_code).toBe(200);
    expect(acc2.data.channel).toBe(channel);
    expect(fake.participants(channel)).toEqual([userIdentity, `app-1_vet-${second.id}`]);
    const creates = fake.requests.filter(
      (r) => r.method === "POST" && r.path === `/conversations/v1/Services/${CHAT}/Conversations`,
    );
    expect(creates).toHaveLength(1);
    expect((await u.next("consult:matched", (p) => p.vet.id === `app-1_vet-${second.id}`)).channel).toBe(channel);

    await v2.ask("consult:end", { consultation_id: data.consultation_id });
    v2.close();
    u.close();
  });

  it("a Twilio failure adding the next vet answers 502; the retried accept adds them", async () => {
    const app = await seedApp(t.gateway);
    const first = await seedVet(t.gateway);
    const owner = await seedUser(t.gateway, app.id);
    const v1 = await vetClient(t.url, first.token);
    const u = await userClient(t.url, owner.token);
    const { data } = await u.ask("consult:request", { conversation_request: "chat", pet_id: owner.petId });
    await v1.next("consult:offer");
    const channel = (await v1.ask("consult:accept", { consultation_id: data.consultation_id })).data.channel as string;
    v1.close();
    await u.next("consult:queued", (p) => p.reason === "vet_left", 5000);

    const second = await seedVet(t.gateway);
    const v2 = await vetClient(t.url, second.token);
    await v2.next("consult:offer");
    const identity = `app-1_vet-${second.id}`;
    fake.failNext(3, 503, (r) => r.body.Identity === identity);
    const failed = await v2.ask("consult:accept", { consultation_id: data.consultation_id });
    expect(failed).toMatchObject({ success: false, status_code: 502 });
    expect(fake.participants(channel)).not.toContain(identity);
    const retried = await v2.ask("consult:accept", { consultation_id: data.consultation_id });
    expect(retried).toMatchObject({ status_code: 200, data: { channel } });
    expect(fake.participants(channel)).toContain(identity);
    await v2.ask("consult:end", { consultation_id: data.consultation_id });
    v2.close();
    u.close();
  });
});
