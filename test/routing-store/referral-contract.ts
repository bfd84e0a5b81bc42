/**
 * Referrals (PROTOCOL §10) as every {@link RoutingStore} must keep them: a referral's entry is
 * offered like a request in the transferred class (never to its first vet, only to a named
 * vet, the language binding), its accept hands the consultation over atomically (cold: one
 * holder; warm: two until the first leaves), and ending it frees the offer. Runs against the
 * memory and the Redis store, beside `contract.ts`.
 */
import { beforeEach, describe, expect, it } from "vitest";
import type { NewLiveConsultation, RoutingStore } from "../../src/domain/routing-store.js";
import { referralEntryId, type LiveConsultation, type Referral, type VetSkills } from "../../src/domain/types.js";
import { availableVet, freshStore, newRequest, rulesFor, type StoreFixture } from "./contract.js";

const T0 = Date.UTC(2026, 0, 1);
const OFFER_MS = 30_000;
const TRANSFER_MS = 120_000;
const FAR = T0 + 10 * 365 * 24 * 3600_000;

export function referralContract(name: string, make: () => Promise<StoreFixture>): void {
  describe(`RoutingStore referral contract: ${name}`, () => {
    let store: RoutingStore;
    const current = freshStore(make);
    beforeEach(() => {
      store = current();
    });

    const vet = (vetId: number, skills: Partial<VetSkills> = {}) => availableVet(store, vetId, skills, T0);
    const claim = (id: string, vetId: number, now = T0 + 10) =>
      store.claimOffer(id, vetId, now, now + OFFER_MS, rulesFor(1));

    /** A consultation active with `vetId`. */
    async function activeWith(vetId: number, over: Partial<NewLiveConsultation> = {}): Promise<LiveConsultation> {
      const c = (await store.enqueue(newRequest(over))).consultation;
      const r = await claim(c.id, vetId, T0 + 1);
      if (!r.ok) throw new Error(r.reason);
      const a = await store.acceptOffer(c.id, vetId, T0 + 2);
      if (!a.ok) throw new Error(a.reason);
      return a.consultation;
    }

    const referral = (over: Partial<Referral> = {}): Referral => ({
      fromVetId: 1,
      fromVetName: "Ann Vet",
      note: 'Needs a dermatologist — ü "quoted"',
      mode: "warm",
      toVetId: null,
      requestedAt: T0 + 5,
      deadline: T0 + 5 + TRANSFER_MS,
      ...over,
    });
    const refer = (
      c: LiveConsultation,
      over: Partial<Referral> = {},
      to = { species: null as string | null, language: null as string | null },
    ) =>
      store.requestReferral(c.id, {
        ...referral(over),
        ...(to.species ? { species: to.species } : {}),
        ...(to.language ? { language: to.language } : {}),
      });

    it("puts an entry in the transferred class, ahead of every waiting request, never offered to its first vet", async () => {
      await vet(1);
      const c = await activeWith(1, { species: "dog" });
      const waiting = (await store.enqueue(newRequest({ priority: "emergency" }))).consultation;
      const r = await refer(c);
      if (!r.ok) throw new Error(r.reason);
      expect(r.consultation.referral).toEqual(referral());
      expect(r.consultation.vetId).toBe(1);
      expect(r.entry).toMatchObject({
        id: referralEntryId(c.id),
        referralOf: c.id,
        status: "queued",
        transferred: true,
        excludedVetIds: [1],
        species: "dog",
      });
      expect(r.entry.profile).toEqual(c.profile);
      const snap = await store.snapshot();
      expect(snap.queue.map((q) => q.id)).toEqual([r.entry.id, waiting.id]);
      const head = await store.headSnapshot(1);
      expect(head.queue.map((q) => q.id)).toContain(r.entry.id);
      // The first vet: busy with it anyway, and excluded.
      expect(await claim(r.entry.id, 1)).toMatchObject({ ok: false });
      await vet(2);
      // Vet 2 could take the emergency too: the referral goes first.
      expect(await claim(waiting.id, 2)).toEqual({ ok: false, reason: "out_of_order" });
      const offered = await claim(r.entry.id, 2);
      expect(offered.ok && offered.consultation.referral?.note).toBe(referral().note);
    });

    it("refuses a referral of a consultation not active, not held by the vet, or with one pending", async () => {
      await vet(1);
      await vet(2);
      const c = await activeWith(1);
      const queued = (await store.enqueue(newRequest())).consultation;
      expect(await refer(queued)).toEqual({ ok: false, reason: "not_active" });
      expect(await store.requestReferral("nope", referral())).toEqual({ ok: false, reason: "not_found" });
      expect(await refer(c, { fromVetId: 2 })).toEqual({ ok: false, reason: "not_holder" });
      expect((await refer(c)).ok).toBe(true);
      expect(await refer(c)).toEqual({ ok: false, reason: "pending" });
      expect(await store.requestReferral(referralEntryId(c.id), referral())).toEqual({
        ok: false,
        reason: "not_found",
      });
    });

    it("a named vet only; the language asked for binds; the species asked for replaces the pet's", async () => {
      await vet(1);
      await vet(2, { languages: ["en"] });
      await vet(3, { languages: ["fr"], species: ["cat"] });
      const c = await activeWith(1, { species: "dog" });
      const named = await refer(c, { toVetId: 3 });
      if (!named.ok) throw new Error(named.reason);
      expect(await claim(named.entry.id, 2)).toEqual({ ok: false, reason: "vet_not_eligible" });
      expect(await claim(named.entry.id, 3)).toEqual({ ok: false, reason: "vet_not_eligible" }); // treats cats only
      await store.endReferral(c.id);
      const byLanguage = await refer(c, {}, { species: "cat", language: "fr" });
      if (!byLanguage.ok) throw new Error(byLanguage.reason);
      expect(await claim(byLanguage.entry.id, 2, T0 + 10 * 60_000)).toEqual({ ok: false, reason: "vet_not_eligible" });
      expect((await claim(byLanguage.entry.id, 3)).ok).toBe(true);
    });

    it("warm accept: both vets hold it until the first leaves; the entry is gone", async () => {
      await vet(1);
      await vet(2);
      const c = await activeWith(1);
      const r = await refer(c);
      if (!r.ok) throw new Error(r.reason);
      expect((await claim(r.entry.id, 2)).ok).toBe(true);
      const a = await store.acceptOffer(r.entry.id, 2, T0 + 20);
      if (!a.ok) throw new Error(a.reason);
      expect(a.referral).toEqual({ fromVetId: 1, referral: referral() });
      expect(a.offer).toEqual({ vetId: 2, offeredAt: T0 + 10, expiresAt: T0 + 10 + OFFER_MS });
      expect(a.consultation).toMatchObject({ id: c.id, status: "active", vetId: 2, leavingVetId: 1 });
      expect(a.consultation.referral ?? null).toBeNull();
      expect(await store.getConsultation(r.entry.id)).toBeNull();
      expect((await store.getVet(1))!.activeConsultationIds).toEqual([c.id]);
      expect((await store.getVet(2))!).toMatchObject({ activeConsultationIds: [c.id], offerConsultationId: null });
      expect((await store.snapshot()).queue).toEqual([]);
      expect((await store.claimDue(FAR, 100)).filter((d) => d.ref === r.entry.id)).toEqual([]);
      // Only the leaving vet may leave; then it is free.
      expect(await store.leaveConsultation(c.id, 2, T0 + 30)).toBeNull();
      const left = await store.leaveConsultation(c.id, 1, T0 + 30);
      expect(left?.consultation).toMatchObject({ vetId: 2 });
      expect(left?.consultation.leavingVetId ?? null).toBeNull();
      expect(left?.presence).toMatchObject({ vetId: 1, activeConsultationIds: [], idleSince: T0 + 30 });
      expect(await store.leaveConsultation(c.id, 1, T0 + 31)).toBeNull();
    });

    it("cold accept: the first vet lets go at once; a video moves its holding", async () => {
      await vet(1);
      await vet(2);
      const c = await activeWith(1, { type: "video" });
      expect((await store.getVet(1))!.holdsVideo).toBe(true);
      const r = await refer(c, { mode: "cold" });
      if (!r.ok) throw new Error(r.reason);
      expect((await claim(r.entry.id, 2)).ok).toBe(true);
      const a = await store.acceptOffer(r.entry.id, 2, T0 + 20);
      expect(a.ok && a.consultation).toMatchObject({ vetId: 2 });
      expect(a.ok && (a.consultation.leavingVetId ?? null)).toBeNull();
      expect(await store.getVet(1)).toMatchObject({ activeConsultationIds: [], idleSince: T0 + 20 });
      expect((await store.getVet(1))!.holdsVideo ?? false).toBe(false);
      expect(await store.getVet(2)).toMatchObject({ activeConsultationIds: [c.id], holdsVideo: true });
    });

    it("a declined referral offer waits again with the vet excluded; ending it revokes a held offer and frees the vet", async () => {
      await vet(1);
      await vet(2);
      await vet(3);
      const c = await activeWith(1);
      const r = await refer(c);
      if (!r.ok) throw new Error(r.reason);
      expect((await claim(r.entry.id, 2)).ok).toBe(true);
      const released = await store.releaseOffer(r.entry.id, 2);
      expect(released?.consultation).toMatchObject({ id: r.entry.id, status: "queued", excludedVetIds: [1, 2] });
      expect((await claim(r.entry.id, 3)).ok).toBe(true);
      const ended = await store.endReferral(c.id);
      expect(ended?.revokedOffer).toEqual({ vetId: 3, offeredAt: T0 + 10, expiresAt: T0 + 10 + OFFER_MS });
      expect(ended?.referral).toEqual(referral());
      expect(ended?.consultation.referral ?? null).toBeNull();
      expect((await store.getVet(3))!.offerConsultationId).toBeNull();
      expect(await store.getConsultation(r.entry.id)).toBeNull();
      expect((await store.snapshot()).queue).toEqual([]);
      expect(await store.acceptOffer(r.entry.id, 3, T0 + 20)).toEqual({ ok: false, reason: "no_offer" });
      expect(await store.endReferral(c.id)).toBeNull();
      // Nothing left behind: a new referral may start.
      expect((await refer(c)).ok).toBe(true);
    });

    it("the entry's queue deadline is the referral's; an accept after the consultation changed hands fails", async () => {
      await vet(1);
      await vet(2);
      const c = await activeWith(1);
      const r = await refer(c);
      if (!r.ok) throw new Error(r.reason);
      const due = await store.claimDue(FAR, 100);
      expect(due).toContainEqual({ kind: "queue", ref: r.entry.id, at: referral().deadline });
      expect((await claim(r.entry.id, 2)).ok).toBe(true);
      // The first vet's consultation is handed over (vet_left) before the accept lands.
      const moved = await store.transfer(c.id, T0 + 15, T0 + 15 + 600_000);
      expect(moved?.consultation.status).toBe("queued");
      expect(await store.acceptOffer(r.entry.id, 2, T0 + 20)).toEqual({ ok: false, reason: "no_offer" });
    });

    it("finish during a warm overlap frees the leaving vet too", async () => {
      await vet(1);
      await vet(2);
      const c = await activeWith(1);
      const r = await refer(c);
      if (!r.ok) throw new Error(r.reason);
      await claim(r.entry.id, 2);
      await store.acceptOffer(r.entry.id, 2, T0 + 20);
      const f = await store.finish(c.id, T0 + 40, null);
      expect(f?.consultation).toMatchObject({ vetId: 2, leavingVetId: 1 });
      expect(await store.getVet(1)).toMatchObject({ activeConsultationIds: [], idleSince: T0 + 40 });
      expect(await store.getVet(2)).toMatchObject({ activeConsultationIds: [] });
    });

    it("a vet holds one offer: a referral entry and a request never both go to it", async () => {
      await vet(1);
      await vet(2, { maxChats: 3 });
      const c = await activeWith(1);
      const r = await refer(c);
      if (!r.ok) throw new Error(r.reason);
      const waiting = (await store.enqueue(newRequest())).consultation;
      const [a, b] = await Promise.all([
        claim(r.entry.id, 2),
        store.claimOffer(waiting.id, 2, T0 + 10, T0 + 10 + OFFER_MS, rulesFor(3)),
      ]);
      expect([a.ok, b.ok].filter(Boolean)).toHaveLength(1);
      expect((await store.getVet(2))!.offerConsultationId).toBe(a.ok ? r.entry.id : waiting.id);
    });

    it("revertReferral undoes an accept: the first vet holds it again with its referral; the entry is offered again or waits", async () => {
      await vet(1);
      await vet(2);
      for (const mode of ["warm", "cold"] as const) {
        const c = await activeWith(1, { species: "dog" });
        const ref = referral({ mode, species: "cat", language: "en" });
        const r = await store.requestReferral(c.id, ref);
        if (!r.ok) throw new Error(r.reason);
        await claim(r.entry.id, 2);
        const a = await store.acceptOffer(r.entry.id, 2, T0 + 20);
        if (!a.ok || !a.offer) throw new Error("accept failed");
        expect(await store.revertReferral(c.id, 3, ref, a.offer, T0 + 21)).toBeNull();
        expect(await store.revertReferral(c.id, 2, ref, a.offer, T0 + 21)).toBe("offered");
        expect(await store.getConsultation(c.id)).toMatchObject({ vetId: 1, referral: ref });
        expect((await store.getConsultation(c.id))!.leavingVetId ?? null).toBeNull();
        expect(await store.getConsultation(r.entry.id)).toMatchObject({
          status: "offered",
          offer: a.offer,
          species: "cat",
          language: "en",
          referralOf: c.id,
        });
        expect(await store.getVet(1)).toMatchObject({ activeConsultationIds: [c.id] });
        expect(await store.getVet(2)).toMatchObject({ activeConsultationIds: [], offerConsultationId: r.entry.id });
        expect(await store.revertReferral(c.id, 2, ref, a.offer, T0 + 22)).toBeNull();
        // Accepted again, and this time kept; then the consultation ends (vet 2 free for the next round).
        expect((await store.acceptOffer(r.entry.id, 2, T0 + 23)).ok).toBe(true);
        await store.finish(c.id, T0 + 24, null);
      }
      // The vet holds another offer by now: the entry waits, offered to nobody.
      const c = await activeWith(1);
      const r = await store.requestReferral(c.id, referral());
      if (!r.ok) throw new Error(r.reason);
      await claim(r.entry.id, 2);
      const a = await store.acceptOffer(r.entry.id, 2, T0 + 20);
      if (!a.ok || !a.offer) throw new Error("accept failed");
      await store.setVetStatus(1, "available", T0 + 20);
      const other = (await store.enqueue(newRequest())).consultation;
      await store.setVetSkills(2, { species: [], languages: ["en"], maxChats: 3, version: 5 });
      expect((await store.claimOffer(other.id, 2, T0 + 21, T0 + 21 + OFFER_MS, rulesFor(3))).ok).toBe(true);
      expect(await store.revertReferral(c.id, 2, referral(), a.offer, T0 + 22)).toBe("queued");
      expect(await store.getConsultation(r.entry.id)).toMatchObject({
        status: "queued",
        offer: null,
        excludedVetIds: [1],
      });
      expect((await store.snapshot()).queue.map((q) => q.id)).toContain(r.entry.id);
    });
  });
}
