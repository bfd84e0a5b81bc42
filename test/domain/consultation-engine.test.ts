import { beforeEach, describe, expect, it, vi } from "vitest";
import { MemoryRoutingStore } from "../../src/routing-store/memory-store.js";
import { makeEngine } from "../support/engine-fakes.js";

/** Every routing rule of PROTOCOL §4 on the in-memory store, with a manual clock: no sleeps. */
describe("ConsultationEngine", () => {
  let store: MemoryRoutingStore;
  let t: ReturnType<typeof makeEngine>;

  beforeEach(() => {
    store = new MemoryRoutingStore();
    t = makeEngine(store);
  });

  const online = async (vetId: number, status: "available" | "away" = "available") => {
    await t.engine.vetConnected(vetId, `v${vetId}`);
    if (status === "available") await t.engine.setVetStatus(vetId, "available");
    t.clock.advance(1000); // distinct idle times: lower id = longer idle
  };
  const user = async (userId: number) => {
    await t.engine.userConnected(1, userId, `u${userId}`);
  };
  const request = (userId: number, doctorEmail?: string) =>
    t.engine.request({ appId: 1, userId, petId: 1, type: "chat", doctorEmail });
  const offersTo = (vetId: number) => t.notifier.of(`vet:${vetId}`, "consult:offer");

  it("queues with a position when no vet is online, and reports it", async () => {
    await user(1);
    const r = await request(1);
    expect(r).toMatchObject({ status: "queued", position: 1 });
    expect(t.notifier.of("user:1:1", "consult:queued")[0]).toMatchObject({ consultation_id: r.consultation_id, position: 1 });
    await user(2);
    expect((await request(2)).position).toBe(2);
  });

  it("returns the open consultation to a user who asks twice", async () => {
    const a = await request(1);
    const b = await request(1);
    expect(b.consultation_id).toBe(a.consultation_id);
  });

  it("offers the longest-idle eligible vet first", async () => {
    await online(1);
    await online(2);
    await online(3);
    await request(1);
    expect(offersTo(1)).toHaveLength(1);
    expect(offersTo(2)).toHaveLength(0);
    expect(offersTo(1)[0]).toMatchObject({ type: "chat", requested: false, pet: { id: 1 } });
  });

  it("offers the requested vet first when eligible", async () => {
    await online(1);
    await online(2);
    await request(1, "vet2@example.com");
    expect(offersTo(2)[0]).toMatchObject({ requested: true });
    expect(offersTo(1)).toHaveLength(0);
  });

  it("falls back to the longest-idle vet when the requested vet is away, offline or busy", async () => {
    await online(1);
    await online(2, "away");
    await request(1, "vet2@example.com"); // away
    expect(offersTo(1)).toHaveLength(1);
    await request(2, "vet3@example.com"); // offline (never connected)
    expect(offersTo(2)).toHaveLength(0); // vet 2 is away
    await t.engine.setVetStatus(2, "available");
    expect(offersTo(2)).toHaveLength(1);
    await request(3, "vet1@example.com"); // vet 1 busy holding an offer
    expect(offersTo(1)).toHaveLength(1);
  });

  it("serves requests first come, first served", async () => {
    const a = await request(1);
    const b = await request(2);
    await online(5);
    expect(offersTo(5)).toHaveLength(1);
    expect(offersTo(5)[0].consultation_id).toBe(a.consultation_id);
    await t.engine.decline(5, a.consultation_id);
    // Vet 5 declined A, so B (next in line) is offered to it; A waits for another vet.
    expect(offersTo(5)[1].consultation_id).toBe(b.consultation_id);
  });

  it("decline offers the next vet at once and never re-offers the decliner", async () => {
    await online(1);
    await online(2);
    const r = await request(1);
    await t.engine.decline(1, r.consultation_id);
    expect(offersTo(2)[0].consultation_id).toBe(r.consultation_id);
    await t.engine.decline(2, r.consultation_id);
    expect(offersTo(1)).toHaveLength(1);
    await t.engine.flush();
    expect(t.ledger.offers.map((o) => o.outcome)).toEqual(["declined", "declined"]);
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
    expect(vetView).toMatchObject({ channel: matched.channel, identity: "app-1_vet-1", twilioToken: "vtok-1", user_identity: "local-app-1_user-1" });
    expect(vetView.user).toMatchObject({ id: 1 });
    await t.engine.flush();
    expect(t.ledger.rows.get(r.consultation_id)).toMatchObject({ status: "active", vetId: 1, channelSid: matched.channel });
  });

  it("refuses to accept a revoked or expired offer with 409", async () => {
    await online(1);
    await online(2);
    const r = await request(1);
    await t.engine.decline(1, r.consultation_id);
    await expect(t.engine.accept(1, r.consultation_id)).rejects.toMatchObject({ status: 409 });
    t.clock.advance(30_000); // vet 2's offer expires, not yet swept
    await expect(t.engine.accept(2, r.consultation_id)).rejects.toMatchObject({ status: 409 });
  });

  it("offer timeout revokes, sets the vet away with reason offer_timeout, and offers the next vet", async () => {
    await online(1);
    await online(2);
    const r = await request(1);
    t.clock.advance(29_999);
    await t.engine.tick();
    expect(offersTo(2)).toHaveLength(0);
    t.clock.advance(1);
    await t.engine.tick();
    expect(t.notifier.of("vet:1", "consult:offer_revoked")).toEqual([{ consultation_id: r.consultation_id, reason: "timeout" }]);
    expect(t.notifier.of("vet:1", "presence")).toEqual([{ status: "away", reason: "offer_timeout" }]);
    expect((await store.getVet(1))!.status).toBe("away");
    expect(offersTo(2)[0].consultation_id).toBe(r.consultation_id);
  });

  it("a vet disconnecting mid-offer hands the request to the next vet", async () => {
    await online(1);
    await online(2);
    const r = await request(1);
    await t.engine.vetDisconnected(1, "v1");
    expect(offersTo(2)[0].consultation_id).toBe(r.consultation_id);
    await t.engine.flush();
    expect(t.ledger.offers[0].outcome).toBe("disconnected");
  });

  it("a vet going away mid-offer hands the request on", async () => {
    await online(1);
    await online(2);
    const r = await request(1);
    await t.engine.setVetStatus(1, "away");
    expect(t.notifier.of("vet:1", "consult:offer_revoked")[0]).toMatchObject({ reason: "cancelled" });
    expect(offersTo(2)[0].consultation_id).toBe(r.consultation_id);
  });

  it("cancel revokes the offer with reason cancelled and frees the vet", async () => {
    await online(1);
    const a = await request(1);
    await t.engine.cancel(1, 1, a.consultation_id);
    expect(t.notifier.of("vet:1", "consult:offer_revoked")).toEqual([{ consultation_id: a.consultation_id, reason: "cancelled" }]);
    const b = await request(2);
    expect(offersTo(1)[1].consultation_id).toBe(b.consultation_id);
    await expect(t.engine.cancel(1, 1, b.consultation_id)).rejects.toMatchObject({ status: 404 }); // not this user's
    await t.engine.cancel(1, 1, a.consultation_id); // idempotent
  });

  it("expires a request no vet accepted within QUEUE_TIMEOUT_MS", async () => {
    await user(1);
    const r = await request(1);
    t.clock.advance(600_000);
    await t.engine.tick();
    expect(t.notifier.of("user:1:1", "consult:expired")).toEqual([{ consultation_id: r.consultation_id }]);
    expect(await store.findOpenByUser(1, 1)).toBeNull();
    expect(t.ledger.rows.get(r.consultation_id)!.status).toBe("expired");
  });

  it("keeps a disconnected user's place for USER_GRACE_MS, then cancels", async () => {
    await user(1);
    const r = await request(1);
    await user(2);
    await request(2);
    await t.engine.userDisconnected(1, 1, "u1");
    t.clock.advance(59_999);
    await t.engine.tick();
    expect(await store.getConsultation(r.consultation_id)).not.toBeNull();
    t.clock.advance(1);
    await t.engine.tick();
    expect(await store.getConsultation(r.consultation_id)).toBeNull();
    expect(t.ledger.rows.get(r.consultation_id)!.status).toBe("cancelled");
    // The user behind moved up.
    expect(t.notifier.of("user:1:2", "consult:queued").at(-1)).toMatchObject({ position: 1 });
  });

  it("a user reconnecting within grace keeps the place and gets consult:state", async () => {
    await user(1);
    const r = await request(1);
    await t.engine.userDisconnected(1, 1, "u1");
    t.clock.advance(30_000);
    const state = await t.engine.userConnected(1, 1, "u1b");
    expect(state).toMatchObject({ consultation_id: r.consultation_id, status: "queued", position: 1 });
    t.clock.advance(60_000);
    await t.engine.tick();
    expect(await store.getConsultation(r.consultation_id)).not.toBeNull();
  });

  it("resume of an active consultation carries channel, vet and a fresh token", async () => {
    await online(1);
    const r = await request(1);
    await t.engine.accept(1, r.consultation_id);
    const state = await t.engine.userConnected(1, 1, "again");
    expect(state).toMatchObject({ status: "active", vet: { id: "app-1_vet-1" }, identity: "local-app-1_user-1" });
    expect(state!.channel).toMatch(/^CH/);
  });

  it("wrap-up keeps the vet out of routing until feedback", async () => {
    await online(1);
    const a = await request(1);
    await t.engine.accept(1, a.consultation_id);
    await t.engine.endByUser(1, 1, a.consultation_id);
    expect(t.notifier.of("vet:1", "consult:ended")).toEqual([{ consultation_id: a.consultation_id, ended_by: "user" }]);
    const b = await request(2);
    expect(offersTo(1)).toHaveLength(1); // in wrap-up: no second offer
    await t.engine.submitFeedback(1, a.consultation_id, "See a vet", "Ear infection");
    expect(t.notifier.of("user:1:1", "consult:feedback")[0]).toMatchObject({
      consultation_id: a.consultation_id,
      type: "chat",
      vet_first_name: "First1",
      vet_last_name: "Last1",
      recommendation: "See a vet",
      reason: "Ear infection",
    });
    expect(offersTo(1)[1].consultation_id).toBe(b.consultation_id);
  });

  it("wrap-up ends by itself after WRAPUP_MS", async () => {
    await online(1);
    const a = await request(1);
    await t.engine.accept(1, a.consultation_id);
    await t.engine.endByVet(1, a.consultation_id);
    await request(2);
    t.clock.advance(59_999);
    await t.engine.tick();
    expect(offersTo(1)).toHaveLength(1);
    t.clock.advance(1);
    await t.engine.tick();
    expect(offersTo(1)).toHaveLength(2);
  });

  it("a second feedback replaces the first; feedback before the consultation is active is refused", async () => {
    await online(1);
    const a = await request(1);
    await expect(t.engine.submitFeedback(1, a.consultation_id, "x", "y")).rejects.toMatchObject({ status: 404 });
    await t.engine.accept(1, a.consultation_id);
    await t.engine.submitFeedback(1, a.consultation_id, "first", "r1");
    await t.engine.submitFeedback(1, a.consultation_id, "second", "r2");
    expect(t.ledger.feedback.get(a.consultation_id)).toMatchObject({ recommendation: "second", reason: "r2" });
  });

  it("respects VET_MAX_CONSULTS", async () => {
    t = makeEngine(store, { routing: { vetMaxConsults: 2, wrapupMs: 0 } });
    await online(1);
    const a = await request(1);
    await t.engine.accept(1, a.consultation_id);
    const b = await request(2);
    await t.engine.accept(1, b.consultation_id);
    await request(3);
    expect(offersTo(1)).toHaveLength(2); // at capacity
    await t.engine.endByVet(1, a.consultation_id);
    expect(offersTo(1)).toHaveLength(3);
  });

  it("an end runs a routing pass only when a request still waits for an offer", async () => {
    t = makeEngine(store, { routing: { wrapupMs: 0 } });
    await online(1);
    const a = await request(1);
    await t.engine.accept(1, a.consultation_id);
    const passes = vi.spyOn(store, "snapshot");
    await t.engine.endByVet(1, a.consultation_id);
    expect(passes).not.toHaveBeenCalled(); // nobody waits: no pass
    const b = await request(2);
    await t.engine.accept(1, b.consultation_id);
    const c = await request(3); // vet 1 is busy: c waits
    passes.mockClear();
    await t.engine.endByVet(1, b.consultation_id);
    expect(passes).toHaveBeenCalled();
    expect(offersTo(1).at(-1)).toMatchObject({ consultation_id: c.consultation_id }); // at once, no tick
  });

  it("video: call:start creates one room, rings the owner, and relays the owner's answer", async () => {
    await online(1);
    const r = await t.engine.request({ appId: 1, userId: 1, petId: 1, type: "video" });
    await t.engine.accept(1, r.consultation_id);
    const call = await t.engine.startCall(1, r.consultation_id);
    expect(call.room_sid).toMatch(/^RM[0-9a-f]{32}$/);
    expect(call.twilioToken).toBe(`vtok-1-${call.room_sid}`);
    expect(t.notifier.of("user:1:1", "call:incoming")[0]).toMatchObject({ room_sid: call.room_sid, twilioToken: `utok-1-1-${call.room_sid}` });
    expect((await t.engine.startCall(1, r.consultation_id)).room_sid).toBe(call.room_sid);
    await t.engine.flush();
    await t.engine.relayCallStatus(1, 1, call.room_sid, "accepted");
    expect(t.notifier.of("vet:1", "call:status")).toEqual([{ consultation_id: r.consultation_id, room_sid: call.room_sid, status: "accepted" }]);
    await expect(t.engine.relayCallStatus(1, 2, call.room_sid, "declined")).rejects.toMatchObject({ status: 404 });
  });

  it("talk-to-vet assigns at once, prefers the requested vet, and says retry after 30 s when none is free", async () => {
    await online(1);
    await online(2);
    const a = await t.engine.talkToVet({ appId: 1, userId: 1, petId: 1, type: "chat", doctorEmail: "vet2@example.com" });
    expect(a.vet.id).toBe("app-1_vet-2");
    expect(a.consultation.channelSid).toMatch(/^CH/);
    expect(t.notifier.of("vet:2", "consult:assigned")[0]).toMatchObject({ consultation_id: a.consultation.id });
    const b = await t.engine.talkToVet({ appId: 1, userId: 2, petId: 1, type: "chat", doctorEmail: "vet2@example.com" });
    expect(b.vet.id).toBe("app-1_vet-1"); // requested vet busy → longest idle
    await expect(t.engine.talkToVet({ appId: 1, userId: 3, petId: 1, type: "chat" })).rejects.toMatchObject({
      name: "NoVetAvailableError",
      retryAfterS: 30,
    });
    // Asking again returns the same active consultation.
    const again = await t.engine.talkToVet({ appId: 1, userId: 1, petId: 1, type: "chat" });
    expect(again.consultation.id).toBe(a.consultation.id);
  });

  it("404s for an unknown user or pet", async () => {
    await expect(t.engine.request({ appId: 1, userId: 100, petId: 1, type: "chat" })).rejects.toMatchObject({ status: 404 });
    await expect(t.engine.request({ appId: 1, userId: 1, petId: 100, type: "chat" })).rejects.toMatchObject({ status: 404 });
  });

  it("a node that stops heartbeating loses its vets; their offers go to the next vet", async () => {
    const other = makeEngine(store, { nodeId: "node-b", clock: t.clock });
    await t.engine.tick(); // node-a heartbeats
    await other.engine.tick(); // node-b heartbeats
    await other.engine.vetConnected(1, "v1");
    await other.engine.setVetStatus(1, "available");
    t.clock.advance(1000);
    await online(2);
    const r = await request(1);
    expect(other.notifier.of("vet:1", "consult:offer")).toHaveLength(0); // node-a notifies: one notifier per engine
    expect(offersTo(1)).toHaveLength(1);
    // node-b dies; node-a keeps ticking.
    for (let i = 0; i < 16; i++) {
      t.clock.advance(1000);
      await t.engine.tick();
    }
    expect((await store.getVet(1))!.connections).toBe(0);
    expect(offersTo(2)[0].consultation_id).toBe(r.consultation_id);
  });

  it("a node that paused past the TTL and was reaped asks its sockets to reconnect", async () => {
    let reaped = 0;
    const paused = makeEngine(store, { nodeId: "node-b", clock: t.clock, onNodeReaped: () => reaped++ });
    await paused.engine.tick();
    await paused.engine.vetConnected(1, "v1");
    t.clock.advance(16_000); // node-b pauses; node-a reaps it
    await t.engine.tick();
    expect((await store.getVet(1))!.connections).toBe(0);
    expect(reaped).toBe(0);
    await paused.engine.tick();
    expect(reaped).toBe(1);
    t.clock.advance(6_000);
    await paused.engine.tick(); // registered again: no second call
    expect(reaped).toBe(1);
  });

  it("drain hands this node's vets and offers back at once", async () => {
    const other = makeEngine(store, { nodeId: "node-b", clock: t.clock });
    await other.engine.vetConnected(1, "v1");
    await other.engine.setVetStatus(1, "available");
    t.clock.advance(1000);
    await online(2);
    const r = await request(1);
    expect(offersTo(1)).toHaveLength(1);
    await other.engine.drain();
    expect(other.notifier.of("vet:2", "consult:offer")[0].consultation_id).toBe(r.consultation_id);
  });

  it("stats counts the queue, vets by status and open consultations", async () => {
    await online(1);
    await online(2, "away");
    const a = await request(1);
    await t.engine.accept(1, a.consultation_id);
    await request(2);
    expect(await t.engine.stats()).toEqual({
      queue_length: 1,
      vets: { available: 0, offered: 0, busy: 1, wrapup: 0, away: 1, offline: 0 },
      open_consultations: 2,
    });
  });
});
