import { beforeEach, describe, expect, it } from "vitest";
import { MemoryRoutingStore } from "../../src/routing-store/memory/store.js";
import { makeEngine } from "../support/engine-fakes.js";
import { engineHelpers } from "./engine-helpers.js";

/** The lifecycle: accept, decline, cancel, end; how offers end. In-memory store, manual clock: no sleeps. */
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
    expect(t.notifier.of("vet:1", "consult:offer_revoked")).toEqual([
      { consultation_id: a.consultation_id, reason: "cancelled" },
    ]);
    const b = await request(2);
    expect(offersTo(1)[1].consultation_id).toBe(b.consultation_id);
    await expect(t.engine.cancel(1, 1, b.consultation_id)).rejects.toMatchObject({ status: 404 }); // not this user's
    await t.engine.cancel(1, 1, a.consultation_id); // idempotent
  });
});
