import { beforeEach, describe, expect, it } from "vitest";
import { MemoryRoutingStore } from "../../src/routing-store/memory/store.js";
import { makeEngine } from "../support/engine-fakes.js";
import { engineHelpers } from "./engine-helpers.js";

/**
 * Vet resume and hand-over (PROTOCOL §3, §4), revocation of users and vets (§6).
 * In-memory store, manual clock: no sleeps.
 */
describe("vet resume and hand-over", () => {
  let store: MemoryRoutingStore;
  let t: ReturnType<typeof makeEngine>;
  const { online, user, request, offersTo } = engineHelpers(() => t);

  beforeEach(() => {
    store = new MemoryRoutingStore();
    t = makeEngine(store);
  });

  /** Vet 1 holds user 1's consultation, active. */
  async function activeWithVet1(): Promise<string> {
    await online(1);
    await user(1);
    const r = await request(1);
    await t.engine.accept(1, r.consultation_id);
    return r.consultation_id;
  }

  it("a reconnecting vet gets consult:state per active consultation (fresh token); back in time nothing changes", async () => {
    const id = await activeWithVet1();
    const channel = (await store.getConsultation(id))!.channelSid;
    await t.engine.vetDisconnected(1, "v1");
    t.clock.advance(59_999);
    await t.engine.tick();
    await t.engine.vetConnected(1, "v1-reloaded");
    const resume = await t.engine.vetResume(1);
    expect(resume.offer).toBeNull();
    expect(resume.states).toEqual([
      {
        consultation_id: id,
        status: "active",
        type: "chat",
        channel,
        vet: { id: "app-1_vet-1", username: "First1 Last1", profile_image: null },
        identity: "app-1_vet-1",
        twilioToken: "vtok-1",
        user: { id: 1, first_name: "U1", last_name: null, email: "u1@example.com" },
        pet: { id: 1, name: "Pet1" },
        user_identity: "local-app-1_user-1",
        care: "treatment",
        region: null,
        history_count: 0,
        // Offline mode: the gateway carries the chat, and a console that reloads gets it back.
        messages: [],
      },
    ]);
    // The grace deadline is gone: much later, still active with vet 1.
    t.clock.advance(600_000);
    await t.engine.tick();
    expect(await store.getConsultation(id)).toMatchObject({ status: "active", vetId: 1 });
    expect(t.notifier.of("user:1:1", "consult:queued").filter((q) => q.reason)).toEqual([]);
  });

  it("a console reload with another console still open gets the held offer again (same expires_at)", async () => {
    await online(1);
    await t.engine.vetConnected(1, "v1-second");
    const r = await request(1);
    const offer = offersTo(1)[0];
    await t.engine.vetDisconnected(1, "v1");
    t.clock.advance(10_000);
    await t.engine.vetConnected(1, "v1-reloaded");
    const resume = await t.engine.vetResume(1);
    expect(resume.states).toEqual([]);
    expect(resume.offer).toEqual(offer);
    expect(resume.offer).toMatchObject({ consultation_id: r.consultation_id, requested: false });
    expect(resume.offer!.transferred).toBeUndefined();
  });

  it("not back within VET_GRACE_MS: to the head of the queue, owner told vet_left, next vet offered transferred, same Conversation", async () => {
    const id = await activeWithVet1();
    const channel = (await store.getConsultation(id))!.channelSid;
    await user(2);
    const waiting = await request(2);
    await t.engine.vetDisconnected(1, "v1");
    t.clock.advance(59_999);
    await t.engine.tick();
    expect(await store.getConsultation(id)).toMatchObject({ status: "active", vetId: 1 });

    t.clock.advance(1);
    await t.engine.tick();
    const c = (await store.getConsultation(id))!;
    expect(c).toMatchObject({
      status: "queued",
      vetId: null,
      transferred: true,
      excludedVetIds: [1],
      channelSid: channel,
    });
    expect((await store.snapshot()).queue.map((q) => q.id)).toEqual([id, waiting.consultation_id]);
    expect(t.notifier.of("user:1:1", "consult:queued").at(-1)).toMatchObject({
      consultation_id: id,
      position: 1,
      reason: "vet_left",
    });
    expect((await store.getVet(1))!.activeConsultationIds).toEqual([]);
    await t.engine.flush();
    expect(t.ledger.rows.get(id)!.status).toBe("queued");
    expect(t.ledger.events.filter((e) => e.id === id).at(-1)).toMatchObject({
      from: "active",
      to: "queued",
      detail: { reason: "vet_left", from_vet_id: 1 },
    });
    // The request behind moves down one place on the next tick.
    await t.engine.tick();
    expect(t.notifier.of("user:1:2", "consult:queued").at(-1)).toMatchObject({ position: 2 });

    // The next vet gets it first (ahead of the waiting request), marked transferred.
    await online(2);
    expect(offersTo(2)).toHaveLength(1);
    expect(offersTo(2)[0]).toMatchObject({ consultation_id: id, transferred: true });
    const accepted = await t.engine.accept(2, id);
    expect(accepted).toMatchObject({ consultation_id: id, channel, identity: "app-1_vet-2" });
    expect(t.notifier.of("user:1:1", "consult:matched").at(-1)).toMatchObject({ consultation_id: id, channel });
    expect(await store.getConsultation(id)).toMatchObject({ status: "active", vetId: 2, channelSid: channel });
  });

  it("the old vet coming back after the hand-over resumes nothing and is never offered it again", async () => {
    const id = await activeWithVet1();
    await t.engine.vetDisconnected(1, "v1");
    t.clock.advance(60_000);
    await t.engine.tick();
    await t.engine.vetConnected(1, "v1-late");
    await t.engine.setVetStatus(1, "available");
    expect(await t.engine.vetResume(1)).toEqual({ states: [], offer: null });
    expect(offersTo(1).filter((o) => o.consultation_id === id)).toHaveLength(1); // only the original offer
  });

  it("VET_GRACE_MS=0 hands over at once; the owner ending it during grace leaves nothing to hand over", async () => {
    t = makeEngine(store, { routing: { vetGraceMs: 0 } });
    const id = await activeWithVet1();
    await t.engine.vetDisconnected(1, "v1");
    expect(await store.getConsultation(id)).toMatchObject({ status: "queued", transferred: true });

    const store2 = new MemoryRoutingStore();
    t = makeEngine(store2);
    store = store2;
    const id2 = await activeWithVet1();
    await t.engine.vetDisconnected(1, "v1");
    await t.engine.endByUser(1, 1, id2);
    t.clock.advance(60_000);
    await t.engine.tick();
    expect(await store2.getConsultation(id2)).toBeNull();
    expect(t.notifier.of("user:1:1", "consult:queued").filter((q) => q.reason)).toEqual([]);
  });

  it("an owner offline at the hand-over gets USER_GRACE_MS: not back, cancelled; back in time, still waiting", async () => {
    const id = await activeWithVet1();
    await t.engine.userDisconnected(1, 1, "u1");
    await t.engine.vetDisconnected(1, "v1");
    t.clock.advance(60_000);
    await t.engine.tick();
    expect(await store.getConsultation(id)).toMatchObject({ status: "queued", transferred: true });
    t.clock.advance(59_999);
    await t.engine.tick();
    expect(await store.getConsultation(id)).toMatchObject({ status: "queued" });
    t.clock.advance(1);
    await t.engine.tick();
    expect(await store.getConsultation(id)).toBeNull();
    await t.engine.flush();
    expect(t.ledger.rows.get(id)).toMatchObject({ status: "cancelled", endReason: "user_gone" });

    // Owner 2 comes back within the grace: the request keeps waiting.
    await online(2);
    await user(2);
    const r = await request(2);
    await t.engine.accept(2, r.consultation_id);
    await t.engine.userDisconnected(1, 2, "u2");
    await t.engine.vetDisconnected(2, "v2");
    t.clock.advance(60_000);
    await t.engine.tick();
    t.clock.advance(30_000);
    await t.engine.userConnected(1, 2, "u2-back");
    t.clock.advance(60_000);
    await t.engine.tick();
    expect(await store.getConsultation(r.consultation_id)).toMatchObject({ status: "queued", transferred: true });
  });

  it("an owner connected at the hand-over gets no grace deadline", async () => {
    const id = await activeWithVet1();
    await t.engine.vetDisconnected(1, "v1");
    t.clock.advance(60_000);
    await t.engine.tick();
    t.clock.advance(600_000 - 1);
    await t.engine.tick();
    expect(await store.getConsultation(id)).toMatchObject({ status: "queued" });
  });

  it("a vet on a dead node keeps its consultations for VET_GRACE_MS too", async () => {
    const id = await activeWithVet1();
    await t.engine.tick(); // node-a heartbeats once, then stops; another node reaps it

    const other = makeEngine(store, { nodeId: "node-b", clock: t.clock });
    t.clock.advance(16_000);
    await other.engine.tick();
    expect((await store.getVet(1))!.connections).toBe(0);
    expect(await store.getConsultation(id)).toMatchObject({ status: "active" });
    t.clock.advance(60_000);
    await other.engine.tick();
    expect(await store.getConsultation(id)).toMatchObject({ status: "queued", transferred: true });
    expect(other.notifier.of("user:1:1", "consult:queued").at(-1)).toMatchObject({ reason: "vet_left" });
  });
});

describe("revocation", () => {
  let store: MemoryRoutingStore;
  let t: ReturnType<typeof makeEngine>;
  const { online, user, request, offersTo } = engineHelpers(() => t);

  beforeEach(() => {
    store = new MemoryRoutingStore();
    t = makeEngine(store);
  });

  it("a disabled vet's held offer moves on and its active consultations are handed over at once", async () => {
    await online(1);
    await online(2);
    await user(1);
    const a = await request(1);
    await t.engine.accept(1, a.consultation_id);
    await user(2);
    const b = await request(2); // offered to vet 2
    expect(offersTo(2)[0].consultation_id).toBe(b.consultation_id);
    // Vet 2 is disabled while holding an offer: it goes away, the offer is revoked.
    await t.engine.vetDisabled(2);
    expect(t.notifier.of("vet:2", "consult:offer_revoked")).toEqual([
      { consultation_id: b.consultation_id, reason: "cancelled" },
    ]);
    expect((await store.getVet(2))!.status).toBe("away");
    // Vet 1 is disabled with an active consultation: handed over at once, no grace.
    await t.engine.vetDisabled(1);
    expect(await store.getConsultation(a.consultation_id)).toMatchObject({
      status: "queued",
      transferred: true,
      excludedVetIds: [1],
    });
    expect(t.notifier.of("user:1:1", "consult:queued").at(-1)).toMatchObject({ position: 1, reason: "vet_left" });
    await online(3);
    expect(offersTo(3)[0]).toMatchObject({ consultation_id: a.consultation_id, transferred: true });
  });

  it("a deleted user's active consultation ends (vet told, reason user_deleted); a waiting one is cancelled (offer revoked)", async () => {
    await online(1);
    await user(1);
    const a = await request(1);
    await t.engine.accept(1, a.consultation_id);
    await t.engine.userDeleted(1, 1);
    expect(t.notifier.of("vet:1", "consult:ended")).toEqual([
      { consultation_id: a.consultation_id, ended_by: "system", reason: "user_deleted" },
    ]);
    expect(await store.findOpenByUser(1, 1)).toBeNull();

    await online(2);
    await user(2);
    const b = await request(2);
    expect(offersTo(2)[0].consultation_id).toBe(b.consultation_id);
    await t.engine.userDeleted(1, 2);
    expect(t.notifier.of("vet:2", "consult:offer_revoked")).toEqual([
      { consultation_id: b.consultation_id, reason: "cancelled" },
    ]);
    await t.engine.flush();
    expect(t.ledger.rows.get(a.consultation_id)!.status).toBe("ended");
    expect(t.ledger.rows.get(b.consultation_id)!.status).toBe("cancelled");
    // Nothing open: a no-op.
    await t.engine.userDeleted(1, 3);
  });
});
