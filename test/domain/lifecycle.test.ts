import { beforeEach, describe, expect, it } from "vitest";
import { MemoryRoutingStore } from "../../src/routing-store/memory-store.js";
import { makeEngine } from "../support/engine-fakes.js";
import { engineHelpers } from "./engine-helpers.js";

/** The lifecycle: accept, decline, cancel, end, wrap-up and feedback; how offers end. In-memory store, manual clock: no sleeps. */
describe("lifecycle", () => {
  let store: MemoryRoutingStore;
  let t: ReturnType<typeof makeEngine>;
  const { online, request, offersTo } = engineHelpers(() => t);

  beforeEach(() => {
    store = new MemoryRoutingStore();
    t = makeEngine(store);
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

  it("a second feedback replaces the first; feedback before the consultation is active is refused", async () => {
    await online(1);
    const a = await request(1);
    await expect(t.engine.submitFeedback(1, a.consultation_id, "x", "y")).rejects.toMatchObject({ status: 404 });
    await t.engine.accept(1, a.consultation_id);
    await t.engine.submitFeedback(1, a.consultation_id, "first", "r1");
    await t.engine.submitFeedback(1, a.consultation_id, "second", "r2");
    expect(t.ledger.feedback.get(a.consultation_id)).toMatchObject({ recommendation: "second", reason: "r2" });
  });
});
