import { beforeEach, describe, expect, it } from "vitest";
import { StorageUnavailableError } from "../../../src/domain/errors.js";
import { isEligible } from "../../../src/domain/routing-rules.js";
import { MemoryRoutingStore } from "../../../src/routing-store/memory/store.js";
import { FlakyLedger, makeEngine } from "../../support/engine-fakes.js";
import { engineHelpers } from "../engine-helpers.js";

/**
 * Record first, then tell (PROTOCOL §6): when the ledger refuses a write a client's news
 * depends on, the caller gets StorageUnavailableError, nobody is told, and the live state is
 * as before. The ledger written behind waits for the database and lands in order.
 */
describe("record first", () => {
  let store: MemoryRoutingStore;
  let ledger: FlakyLedger;
  let t: ReturnType<typeof makeEngine>;
  const { online, user, request, offersTo } = engineHelpers(() => t);
  const storageError = expect.any(StorageUnavailableError) as unknown;

  beforeEach(() => {
    store = new MemoryRoutingStore();
    ledger = new FlakyLedger();
    t = makeEngine(store, { ledger });
  });

  it("accept refused: 503, the owner hears nothing, the offer is the vet's again; accepting later works", async () => {
    await online(1);
    await user(1);
    const r = await request(1);
    const held = (await store.getConsultation(r.consultation_id))!.offer;
    ledger.failNext = 1;
    await expect(t.engine.accept(1, r.consultation_id)).rejects.toEqual(storageError);
    expect(t.notifier.of("user:1:1", "consult:matched")).toEqual([]);
    expect(await store.getConsultation(r.consultation_id)).toMatchObject({
      status: "offered",
      offer: held,
      vetId: null,
    });
    expect((await store.getVet(1))?.offerConsultationId).toBe(r.consultation_id);
    await t.engine.accept(1, r.consultation_id);
    expect(t.notifier.of("user:1:1", "consult:matched")).toHaveLength(1);
    await t.engine.flush();
    expect(ledger.rows.get(r.consultation_id)).toMatchObject({ status: "active", vetId: 1 });
    expect(ledger.offers.map((o) => o.outcome)).toEqual(["accepted"]);
  });

  it("accept refused after the offer ran out: the offer times out by the rules", async () => {
    await online(1);
    const r = await request(1);
    t.clock.advance(29_000);
    ledger.failNext = 1;
    await expect(t.engine.accept(1, r.consultation_id)).rejects.toBeInstanceOf(StorageUnavailableError);
    t.clock.advance(2_000);
    await t.engine.tick();
    expect(t.notifier.of("vet:1", "consult:offer_revoked")).toEqual([
      { consultation_id: r.consultation_id, reason: "timeout" },
    ]);
  });

  it("vet end refused: 503, still active and nobody told; ending later works", async () => {
    await online(1);
    const r = await request(1);
    await t.engine.accept(1, r.consultation_id);
    ledger.down = true;
    await expect(t.engine.endByVet(1, r.consultation_id)).rejects.toBeInstanceOf(StorageUnavailableError);
    expect(await store.getConsultation(r.consultation_id)).toMatchObject({ status: "active", vetId: 1 });
    expect((await store.getVet(1))?.wrapupUntil).toBeNull();
    expect(t.notifier.of("user:1:1", "consult:ended")).toEqual([]);
    ledger.down = false;
    await t.engine.endByVet(1, r.consultation_id);
    expect(t.notifier.of("user:1:1", "consult:ended")).toHaveLength(1);
    expect(ledger.rows.get(r.consultation_id)?.status).toBe("ended");
  });

  it("owner cancel of an offered request refused: back in the queue, the vet's offer withdrawn and recorded behind", async () => {
    await online(1);
    const r = await request(1);
    ledger.down = true;
    await expect(t.engine.cancel(1, 1, r.consultation_id)).rejects.toBeInstanceOf(StorageUnavailableError);
    expect(t.notifier.of("vet:1", "consult:offer_revoked")).toEqual([
      { consultation_id: r.consultation_id, reason: "cancelled" },
    ]);
    // Back in the queue and offered again (the vet was not excluded).
    expect(await store.findOpenByUser(1, 1)).toMatchObject({ id: r.consultation_id });
    expect(offersTo(1)).toHaveLength(2);
    ledger.down = false;
    await t.engine.cancel(1, 1, r.consultation_id);
    await t.engine.flush();
    expect(ledger.rows.get(r.consultation_id)?.status).toBe("cancelled");
    // Both offers were made in the same millisecond of the fake clock: an offer is keyed by
    // (consultation, vet, offered_at), so they are one row.
    expect(ledger.offers.map((o) => o.outcome)).toEqual(["cancelled"]);
  });

  it("queue expiry refused: the request stays and the deadline is tried again later", async () => {
    const r = await request(1);
    ledger.down = true;
    t.clock.advance(600_000);
    await t.engine.tick();
    expect(t.notifier.of("user:1:1", "consult:expired")).toEqual([]);
    expect(await store.findOpenByUser(1, 1)).toMatchObject({ id: r.consultation_id, status: "queued" });
    ledger.down = false;
    t.clock.advance(1_000);
    await t.engine.tick();
    expect(t.notifier.of("user:1:1", "consult:expired")).toEqual([{ consultation_id: r.consultation_id }]);
    expect(ledger.rows.get(r.consultation_id)?.status).toBe("expired");
  });

  it("the owner's grace refused: tried again later", async () => {
    await user(1);
    const r = await request(1);
    await t.engine.userDisconnected(1, 1, "u1");
    ledger.down = true;
    t.clock.advance(60_000);
    await t.engine.tick();
    expect(await store.findOpenByUser(1, 1)).toMatchObject({ id: r.consultation_id });
    ledger.down = false;
    t.clock.advance(1_000);
    await t.engine.tick();
    expect(await store.findOpenByUser(1, 1)).toBeNull();
    expect(ledger.rows.get(r.consultation_id)?.status).toBe("cancelled");
  });

  it("talk-to-vet refused: 503, the vet is free again and told nothing", async () => {
    await online(1);
    ledger.down = true;
    await expect(t.engine.talkToVet({ appId: 1, userId: 5, petId: 1, type: "chat" })).rejects.toBeInstanceOf(
      StorageUnavailableError,
    );
    expect(isEligible((await store.getVet(1))!, 1)).toBe(true);
    expect(await store.findOpenByUser(1, 5)).toBeNull();
    expect(t.notifier.of("vet:1", "consult:assigned")).toEqual([]);
    ledger.down = false;
    const d = await t.engine.talkToVet({ appId: 1, userId: 5, petId: 1, type: "chat" });
    expect(ledger.rows.get(d.consultation.id)).toMatchObject({
      status: "active",
      vetId: 1,
      channelSid: d.consultation.channelSid,
    });
  });

  it("consult:request refused: nothing is queued and no vet is offered it", async () => {
    await online(1);
    ledger.down = true;
    await expect(request(1)).rejects.toBeInstanceOf(StorageUnavailableError);
    expect(await store.findOpenByUser(1, 1)).toBeNull();
    expect(offersTo(1)).toEqual([]);
  });

  it("feedback refused: 503 and nothing relayed; the vet's wrap-up goes on", async () => {
    await online(1);
    const r = await request(1);
    await t.engine.accept(1, r.consultation_id);
    await t.engine.endByVet(1, r.consultation_id);
    ledger.down = true;
    await expect(t.engine.submitFeedback(1, r.consultation_id, "rest", "ok")).rejects.toBeInstanceOf(
      StorageUnavailableError,
    );
    expect(t.notifier.of("user:1:1", "consult:feedback")).toEqual([]);
    expect((await store.getVet(1))?.wrapupConsultationId).toBe(r.consultation_id);
    ledger.down = false;
    await t.engine.submitFeedback(1, r.consultation_id, "rest", "ok");
    expect(t.notifier.of("user:1:1", "consult:feedback")).toHaveLength(1);
  });

  it("hand-over after VET_GRACE_MS refused: still active with the vet, owner told nothing; tried again and recorded once the database is back", async () => {
    await online(1);
    await user(1);
    const r = await request(1);
    await t.engine.accept(1, r.consultation_id);
    await t.engine.flush();
    await t.engine.vetDisconnected(1, "v1");
    ledger.down = true;
    t.clock.advance(60_000);
    await t.engine.tick();
    expect(await store.getConsultation(r.consultation_id)).toMatchObject({ status: "active", vetId: 1 });
    expect((await store.getVet(1))?.activeConsultationIds).toEqual([r.consultation_id]);
    const vetLeft = () =>
      t.notifier.of("user:1:1", "consult:queued").filter((q: { reason?: string }) => q.reason === "vet_left");
    expect(vetLeft()).toEqual([]);
    expect(ledger.rows.get(r.consultation_id)?.status).toBe("active");
    // Still down at the retry: nothing changes.
    t.clock.advance(1000);
    await t.engine.tick();
    expect(await store.getConsultation(r.consultation_id)).toMatchObject({ status: "active", vetId: 1 });
    ledger.down = false;
    t.clock.advance(1000);
    await t.engine.tick();
    expect(await store.getConsultation(r.consultation_id)).toMatchObject({
      status: "queued",
      transferred: true,
      vetId: null,
    });
    expect(vetLeft()).toMatchObject([{ consultation_id: r.consultation_id, reason: "vet_left" }]);
    expect(ledger.rows.get(r.consultation_id)?.status).toBe("queued");
  });

  it("ledger writes behind during an outage land afterwards, in order", async () => {
    await online(1);
    await online(2);
    const r = await request(1); // offered to vet 1
    ledger.down = true;
    await t.engine.decline(1, r.consultation_id); // offered to vet 2, both behind
    expect(offersTo(2)).toHaveLength(1);
    expect(ledger.offers.map((o) => [o.vetId, o.outcome])).toEqual([[1, null]]);
    ledger.down = false;
    await t.engine.flush();
    expect(ledger.offers.map((o) => [o.vetId, o.outcome])).toEqual([
      [1, "declined"],
      [2, null],
    ]);
    expect(ledger.rows.get(r.consultation_id)?.status).toBe("offered");
    expect(ledger.refused).toBeGreaterThan(0);
  });
});
