import { beforeEach, describe, expect, it } from "vitest";
import { MemoryRoutingStore } from "../../src/routing-store/memory/store.js";
import { makeEngine } from "../support/engine-fakes.js";
import { engineHelpers } from "./engine-helpers.js";

/** Call setup: the Twilio Conversation and room, and each party's own token. In-memory store, manual clock: no sleeps. */
describe("call setup", () => {
  let store: MemoryRoutingStore;
  let t: ReturnType<typeof makeEngine>;
  const { online, request } = engineHelpers(() => t);

  beforeEach(() => {
    store = new MemoryRoutingStore();
    t = makeEngine(store);
  });

  it("accept matches the owner and the vet, each with its own token and one channel", async () => {
    await online(1);
    const r = await request(1);
    const vetView = await t.engine.accept(1, r.consultation_id);
    const matched = t.notifier.of("user:1:1", "consult:matched")[0];
    expect(matched).toMatchObject({
      consultation_id: r.consultation_id,
      type: "chat",
      vet: { id: "app-1_vet-1", username: "First1 Last1", profile_image: null },
      identity: "local-app-1_user-1",
      twilioToken: "utok-1-1",
    });
    expect(matched.channel).toMatch(/^CH[0-9a-f]{32}$/);
    expect(vetView).toMatchObject({
      channel: matched.channel,
      identity: "app-1_vet-1",
      twilioToken: "vtok-1",
      user_identity: "local-app-1_user-1",
    });
    expect(vetView.user).toMatchObject({ id: 1 });
    await t.engine.flush();
    expect(t.ledger.rows.get(r.consultation_id)).toMatchObject({
      status: "active",
      vetId: 1,
      channelSid: matched.channel,
    });
  });

  it("resume of an active consultation carries channel, vet and a fresh token", async () => {
    await online(1);
    const r = await request(1);
    await t.engine.accept(1, r.consultation_id);
    const state = await t.engine.userConnected(1, 1, "again");
    expect(state).toMatchObject({ status: "active", vet: { id: "app-1_vet-1" }, identity: "local-app-1_user-1" });
    expect(state!.channel).toMatch(/^CH/);
  });

  it("video: call:start creates one room, rings the owner, and relays the owner's answer", async () => {
    await online(1);
    const r = await t.engine.request({ appId: 1, userId: 1, petId: 1, type: "video" });
    await t.engine.accept(1, r.consultation_id);
    const call = await t.engine.startCall(1, r.consultation_id);
    expect(call.room_sid).toMatch(/^RM[0-9a-f]{32}$/);
    expect(call.twilioToken).toBe(`vtok-1-${call.room_sid}`);
    expect(t.notifier.of("user:1:1", "call:incoming")[0]).toMatchObject({
      room_sid: call.room_sid,
      twilioToken: `utok-1-1-${call.room_sid}`,
    });
    expect((await t.engine.startCall(1, r.consultation_id)).room_sid).toBe(call.room_sid);
    await t.engine.flush();
    await t.engine.relayCallStatus(1, 1, call.room_sid, "accepted");
    expect(t.notifier.of("vet:1", "call:status")).toEqual([
      { consultation_id: r.consultation_id, room_sid: call.room_sid, status: "accepted" },
    ]);
    await expect(t.engine.relayCallStatus(1, 2, call.room_sid, "declined")).rejects.toMatchObject({ status: 404 });
  });
});
