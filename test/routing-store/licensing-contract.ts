/**
 * Licensing and care (PROTOCOL §4) as every {@link RoutingStore} must keep them: the atomic
 * claim and direct assignment check a vet's licences against the request's region, advice
 * goes to anyone, and the advice fallback's `license` deadline lives and dies with the
 * request. Runs against the memory and the Redis store, beside `contract.ts`.
 */
import { beforeEach, describe, expect, it } from "vitest";
import type { NewLiveConsultation, RoutingStore } from "../../src/domain/routing-store.js";
import type { LiveConsultation, VetSkills } from "../../src/domain/types.js";
import { availableVet, freshStore, newRequest, rulesFor, type StoreFixture } from "./contract.js";

const T0 = Date.UTC(2026, 0, 1);
const OFFER_MS = 30_000;
const FAR = T0 + 10 * 365 * 24 * 3600_000;

export function licensingContract(name: string, make: () => Promise<StoreFixture>): void {
  describe(`RoutingStore licensing contract: ${name}`, () => {
    let store: RoutingStore;
    const current = freshStore(make);
    beforeEach(() => {
      store = current();
    });

    /** An available vet with these skills (licensed nowhere unless given). */
    const vet = (vetId: number, skills: Partial<VetSkills> = {}) => availableVet(store, vetId, skills, T0);
    const enqueue = async (over: Partial<NewLiveConsultation>): Promise<LiveConsultation> => {
      const r = await store.enqueue(newRequest(over));
      expect(r.created).toBe(true);
      return r.consultation;
    };
    const claim = (c: LiveConsultation, vetId: number, licensing = true) =>
      store.claimOffer(c.id, vetId, T0 + 1, T0 + 1 + OFFER_MS, rulesFor(1, licensing));
    const licenseDeadlines = async () => (await store.claimDue(FAR, 10_000)).filter((d) => d.kind === "license");

    it("keeps a vet's licences with its skills, in the snapshot too", async () => {
      const v = await vet(1, { licenses: ["US-CA", "GB"], version: 1 });
      expect(v.skills?.licenses).toEqual(["US-CA", "GB"]);
      await store.setVetSkills(1, { species: [], languages: ["en"], maxChats: null, licenses: ["DE"], version: 2 });
      expect((await store.getVet(1))!.skills?.licenses).toEqual(["DE"]);
      expect((await store.snapshot()).vets[0].skills?.licenses).toEqual(["DE"]);
    });

    it("treatment goes only to a vet licensed for its region or its country; a sibling region or none does not count", async () => {
      await vet(1, { licenses: ["US-CA"] });
      await vet(2, { licenses: ["US"] });
      await vet(3, { licenses: ["US-NY"] });
      await vet(4, {});
      const ca = await enqueue({ region: "US-CA", care: "treatment" });
      expect(await claim(ca, 3)).toEqual({ ok: false, reason: "vet_not_eligible" });
      expect(await claim(ca, 4)).toEqual({ ok: false, reason: "vet_not_eligible" });
      expect((await claim(ca, 1)).ok).toBe(true);
      const ca2 = await enqueue({ region: "US-CA" });
      expect((await claim(ca2, 2)).ok).toBe(true);
      // A subdivision licence does not cover the country as a whole.
      await vet(5, { licenses: ["GB-SCT"] });
      const gb = await enqueue({ region: "GB" });
      expect(await claim(gb, 5)).toEqual({ ok: false, reason: "vet_not_eligible" });
      // No region: no licence can match.
      const nowhere = await enqueue({ region: null });
      expect(await claim(nowhere, 5)).toEqual({ ok: false, reason: "vet_not_eligible" });
    });

    it("advice goes to any eligible vet; with licensing off, licences are not checked at all", async () => {
      await vet(1, {});
      await vet(2, {});
      const advice = await enqueue({ region: "US-TX", care: "advice" });
      expect((await claim(advice, 1)).ok).toBe(true);
      const treatment = await enqueue({ region: "US-TX", care: "treatment" });
      expect(await claim(treatment, 2)).toEqual({ ok: false, reason: "vet_not_eligible" });
      expect((await claim(treatment, 2, false)).ok).toBe(true);
    });

    it("composes with species: licensed but not for this species is refused; both is taken", async () => {
      await vet(1, { licenses: ["GB"], species: ["cat"] });
      await vet(2, { licenses: ["FR"], species: ["dog"] });
      await vet(3, { licenses: ["GB"], species: ["dog"] });
      const dog = await enqueue({ region: "GB-ENG", species: "dog" });
      expect(await claim(dog, 1)).toEqual({ ok: false, reason: "vet_not_eligible" });
      expect(await claim(dog, 2)).toEqual({ ok: false, reason: "vet_not_eligible" });
      expect((await claim(dog, 3)).ok).toBe(true);
    });

    it("assignDirect checks licences as the claim does", async () => {
      await vet(1, { licenses: ["US-NY"] });
      await vet(2, { licenses: ["US-CA"] });
      const refused = await store.assignDirect(
        newRequest({ status: "active", region: "US-CA" }),
        1,
        T0,
        rulesFor(1, true),
      );
      expect(refused).toEqual({ ok: false, reason: "vet_not_eligible" });
      const taken = await store.assignDirect(
        newRequest({ status: "active", region: "US-CA" }),
        2,
        T0,
        rulesFor(1, true),
      );
      expect(taken.ok).toBe(true);
      const advice = await store.assignDirect(
        newRequest({ status: "active", region: "US-CA", care: "advice" }),
        1,
        T0,
        rulesFor(1, true),
      );
      expect(advice.ok).toBe(true);
    });

    it("the advice fallback: a license deadline from the enqueue; setCare makes it advice, drops the deadline, and an unlicensed vet may take it", async () => {
      await vet(1, {});
      const c = await enqueue({ region: "US-TX", adviceFallback: true, careDeadline: T0 + 120_000 });
      expect(await store.claimDue(T0 + 119_999, 100)).toEqual([]);
      expect(await store.claimDue(T0 + 120_000, 100)).toContainEqual({ kind: "license", ref: c.id, at: T0 + 120_000 });
      // Claimed once; set again (as the fallback does while an offer runs), then dropped by setCare.
      await store.addDeadline("license", c.id, T0 + 150_000);
      const advised = await store.setCare(c.id, "advice");
      expect(advised).toMatchObject({
        id: c.id,
        status: "queued",
        care: "advice",
        careDeadline: null,
        region: "US-TX",
        adviceFallback: true,
      });
      expect(await licenseDeadlines()).toEqual([]);
      expect((await store.getConsultation(c.id))?.care).toBe("advice");
      expect((await claim(c, 1)).ok).toBe(true);
      expect(await store.setCare("c-missing", "advice")).toBeNull();
    });

    it("the license deadline goes with an accept and a finish, and comes back with a restore", async () => {
      await vet(1, { licenses: ["US-TX"] });
      const taken = await enqueue({ region: "US-TX", adviceFallback: true, careDeadline: T0 + 120_000 });
      expect((await claim(taken, 1)).ok).toBe(true);
      const accepted = await store.acceptOffer(taken.id, 1, T0 + 2);
      expect(accepted).toMatchObject({ ok: true, consultation: { careDeadline: null } });
      const gone = await enqueue({ region: "US-TX", adviceFallback: true, careDeadline: T0 + 120_000 });
      expect(await store.finish(gone.id, T0 + 3, null)).not.toBeNull();
      expect(await licenseDeadlines()).toEqual([]);
      const back = newRequest({ region: "US-TX", adviceFallback: true, careDeadline: T0 + 90_000 });
      expect(await store.restore({ ...back, seq: 5 })).toBe(true);
      expect(await licenseDeadlines()).toEqual([{ kind: "license", ref: back.id, at: T0 + 90_000 }]);
    });

    it("the head of the queue carries care and region to the routing pass", async () => {
      const c = await enqueue({ region: "GB", care: "advice" });
      const head = await store.headSnapshot(1);
      expect(head.queue.find((q) => q.id === c.id)).toMatchObject({ care: "advice", region: "GB" });
    });
  });
}
