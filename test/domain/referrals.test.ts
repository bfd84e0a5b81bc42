import { beforeEach, describe, expect, it } from "vitest";
import { MemoryRoutingStore } from "../../src/routing-store/memory/store.js";
import { referralEntryId } from "../../src/domain/types.js";
import { StorageUnavailableError } from "../../src/domain/errors.js";
import { FlakyLedger, makeEngine } from "../support/engine-fakes.js";
import { engineHelpers } from "./engine-helpers.js";

/**
 * Referrals (PROTOCOL §10) in the engine: in-memory store, memory ledger, manual clock (no
 * sleeps). The socket suite (`test/sockets/socket-gateway/referrals.test.ts`) runs the same over the wire.
 */
describe("referrals", () => {
  let store: MemoryRoutingStore;
  let t: ReturnType<typeof makeEngine>;
  const { online, user, request, offersTo } = engineHelpers(() => t);

  beforeEach(() => {
    store = new MemoryRoutingStore();
    t = makeEngine(store, { routing: { transferTimeoutMs: 120_000, offerTimeoutMs: 30_000, vetGraceMs: 60_000 } });
  });

  /** Vet 1 holds user 1's consultation; vet 2 comes online afterwards, free. */
  async function activeWithVet1(): Promise<string> {
    await online(1);
    await user(1);
    const r = await request(1);
    await t.engine.accept(1, r.consultation_id);
    await online(2);
    return r.consultation_id;
  }
  const failed = () => t.notifier.of("vet:1", "consult:transfer_failed");

  it("warm: offered with the note, both hold it, then the first leaves; recorded in order", async () => {
    const id = await activeWithVet1();
    expect(
      await t.engine.transfer(1, id, { to: { vet_email: "vet2@example.com" }, note: "derm", mode: "warm" }),
    ).toEqual({
      consultation_id: id,
      referral: "pending",
    });
    expect(offersTo(2).at(-1)).toMatchObject({
      consultation_id: id,
      referral: { from_vet: { id: 1, name: "First1 Last1" }, note: "derm" },
    });
    await t.engine.accept(2, id);
    expect(await store.getConsultation(id)).toMatchObject({ vetId: 2, leavingVetId: 1 });
    expect(t.notifier.of("user:1:1", "consult:transferred")).toEqual([
      { consultation_id: id, vet: { id: "app-1_vet-2", username: "First2 Last2", profile_image: null } },
    ]);
    expect(t.notifier.of("vet:1", "consult:transferred")).toMatchObject([{ consultation_id: id, mode: "warm" }]);
    await expect(t.engine.endByVet(1, id)).rejects.toMatchObject({ status: 404 });
    await t.engine.leave(1, id);
    expect((await store.getVet(1))!.activeConsultationIds).toEqual([]);
    await t.engine.flush();
    const steps = t.ledger.events
      .filter((e) => e.id === id)
      .map((e) => (e.detail as { referral?: string } | null)?.referral)
      .filter(Boolean);
    expect(steps).toEqual(["requested", "offered", "accepted", "left"]);
    expect(t.ledger.rows.get(id)!.vetId).toBe(2);
    expect(t.ledger.offers.filter((o) => o.consultationId === id).map((o) => [o.vetId, o.outcome])).toEqual([
      [1, "accepted"],
      [2, "accepted"],
    ]);
  });

  it("TRANSFER_TIMEOUT_MS with no taker: transfer_failed (timeout) at the deadline, not before", async () => {
    const id = await activeWithVet1();
    await t.engine.transfer(1, id, { to: { language: "fi" }, note: "", mode: "cold" });
    t.clock.advance(119_000);
    await t.engine.tick();
    expect(failed()).toEqual([]);
    t.clock.advance(1_000);
    await t.engine.tick();
    expect(failed()).toEqual([{ consultation_id: id, reason: "timeout" }]);
    expect(await store.getConsultation(referralEntryId(id))).toBeNull();
    expect(await store.getConsultation(id)).toMatchObject({ vetId: 1, referral: null });
  });

  it("the named vet missing the offer fails it (missed); another vet missing it just passes it on", async () => {
    const id = await activeWithVet1();
    await t.engine.transfer(1, id, { to: {}, note: "", mode: "warm" });
    expect(offersTo(2).at(-1)).toMatchObject({ consultation_id: id });
    await online(3);
    t.clock.advance(30_000);
    await t.engine.tick();
    // Vet 2 missed it: not named, so vet 3 gets it.
    expect(failed()).toEqual([]);
    expect(offersTo(3).at(-1)).toMatchObject({ consultation_id: id, referral: { note: "" } });
    await t.engine.cancelTransfer(1, id);
    expect(t.notifier.of("vet:3", "consult:offer_revoked")).toEqual([{ consultation_id: id, reason: "cancelled" }]);

    await t.engine.setVetStatus(2, "available");
    await t.engine.transfer(1, id, { to: { vet_email: "vet2@example.com" }, note: "", mode: "warm" });
    expect(offersTo(2).at(-1)).toMatchObject({ consultation_id: id, requested: true });
    t.clock.advance(30_000);
    await t.engine.tick();
    expect(failed()).toEqual([{ consultation_id: id, reason: "missed" }]);
  });

  it("the first vet gone past VET_GRACE_MS: the referral is withdrawn and the consultation handed over", async () => {
    const id = await activeWithVet1();
    await t.engine.transfer(1, id, { to: { language: "fi" }, note: "", mode: "warm" });
    await t.engine.vetDisconnected(1, "v1");
    t.clock.advance(60_000);
    await t.engine.tick();
    expect(t.notifier.of("user:1:1", "consult:queued").filter((q) => q.reason === "vet_left")).toHaveLength(1);
    expect(await store.getConsultation(referralEntryId(id))).toBeNull();
    expect(offersTo(2).at(-1)).toMatchObject({ consultation_id: id, transferred: true });
  });

  it("a warm overlap's first vet not back within VET_GRACE_MS just leaves it to the next vet", async () => {
    const id = await activeWithVet1();
    await t.engine.transfer(1, id, { to: {}, note: "", mode: "warm" });
    await t.engine.accept(2, id);
    await t.engine.vetDisconnected(1, "v1");
    t.clock.advance(60_000);
    await t.engine.tick();
    expect(await store.getConsultation(id)).toMatchObject({ status: "active", vetId: 2 });
    expect((await store.getConsultation(id))!.leavingVetId ?? null).toBeNull();
    expect(t.notifier.of("user:1:1", "consult:queued").filter((q) => q.reason)).toEqual([]);
  });

  it("the next vet gone past VET_GRACE_MS during a warm overlap: handed over (vet_left), the first vet told it is over for it", async () => {
    const id = await activeWithVet1();
    await t.engine.transfer(1, id, { to: {}, note: "", mode: "warm" });
    await t.engine.accept(2, id);
    await t.engine.vetDisconnected(2, "v2");
    t.clock.advance(60_000);
    await t.engine.tick();
    expect(t.notifier.of("user:1:1", "consult:queued").filter((q) => q.reason === "vet_left")).toHaveLength(1);
    expect(t.notifier.of("vet:1", "consult:ended")).toEqual([
      { consultation_id: id, ended_by: "system", reason: "vet_left" },
    ]);
    expect((await store.getVet(1))!.activeConsultationIds).toEqual([]);
    // Back in the queue ahead of all: the first vet, free again, may take it back.
    expect(await store.getConsultation(id)).toMatchObject({ transferred: true, vetId: null });
    expect(offersTo(1).at(-1)).toMatchObject({ consultation_id: id, transferred: true });
  });

  it("an end during a pending referral revokes its offer; the record keeps the end", async () => {
    const id = await activeWithVet1();
    await t.engine.transfer(1, id, { to: {}, note: "", mode: "warm" });
    await t.engine.endByVet(1, id);
    expect(t.notifier.of("vet:2", "consult:offer_revoked")).toEqual([{ consultation_id: id, reason: "cancelled" }]);
    await expect(t.engine.accept(2, id)).rejects.toMatchObject({ status: 409 });
    expect((await store.getVet(2))!.offerConsultationId).toBeNull();
  });

  it("record first: a referral accept the ledger refuses is undone (503, nobody told, the offer the vet's again); a later accept works", async () => {
    const ledger = new FlakyLedger();
    t = makeEngine(store, { ledger, routing: { transferTimeoutMs: 120_000 } });
    const id = await activeWithVet1();
    // Warm from vet 1 to vet 2, then cold from vet 2 back to vet 1.
    for (const [from, to, cold] of [
      [1, 2, false],
      [2, 1, true],
    ] as const) {
      await t.engine.transfer(from, id, {
        to: { vet_email: `vet${to}@example.com` },
        note: "n",
        mode: cold ? "cold" : "warm",
      });
      const entry = referralEntryId(id);
      const held = (await store.getConsultation(entry))!.offer;
      expect(held?.vetId).toBe(to);
      const told = t.notifier.of("user:1:1", "consult:transferred").length;
      ledger.failNext = 1;
      await expect(t.engine.accept(to, id)).rejects.toBeInstanceOf(StorageUnavailableError);
      expect(t.notifier.of("user:1:1", "consult:transferred")).toHaveLength(told);
      expect(await store.getConsultation(id)).toMatchObject({
        vetId: from,
        referral: { fromVetId: from, toVetId: to },
      });
      expect((await store.getConsultation(id))!.leavingVetId ?? null).toBeNull();
      expect(await store.getConsultation(entry)).toMatchObject({ status: "offered", offer: held });
      expect((await store.getVet(from))!.activeConsultationIds).toEqual([id]);
      expect(await store.getVet(to)).toMatchObject({ activeConsultationIds: [], offerConsultationId: entry });
      await t.engine.accept(to, id);
      expect(await store.getConsultation(id)).toMatchObject({ vetId: to, leavingVetId: cold ? null : from });
      expect(t.notifier.of("user:1:1", "consult:transferred")).toHaveLength(told + 1);
      await t.engine.flush();
      expect(ledger.rows.get(id)!.vetId).toBe(to);
      if (!cold) await t.engine.leave(from, id);
    }
  });
});
