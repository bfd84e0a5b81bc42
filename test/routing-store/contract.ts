/**
 * Behaviour every {@link RoutingStore} must have. Runs against the memory store and the
 * Redis store (see `*-store.test.ts`); where the interface TSDoc leaves room, the memory
 * store is the reference.
 */
import { randomUUID } from "node:crypto";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { NewLiveConsultation, RoutingStore } from "../../src/domain/routing-store.js";
import { isEligible, QUEUE_HEAD_LIMIT, type RoutingRules } from "../../src/domain/routing-rules.js";
import type { LiveConsultation, VetPresence, VetSkills } from "../../src/domain/types.js";
import { AppQueueFullError } from "../../src/domain/errors.js";

export interface StoreFixture {
  store: RoutingStore;
  cleanup(): Promise<void>;
}

const T0 = Date.UTC(2026, 0, 1);
const OFFER_MS = 30_000;
const QUEUE_MS = 600_000;
const FAR = T0 + 10 * 365 * 24 * 3600_000;

const LANGUAGE_MS = 60_000;
const AGING_MS = 300_000;

/** The routing rules with `VET_MAX_CONSULTS` = `maxConsults` and the §4 default windows (licensing as given, off by default). */
export function rulesFor(maxConsults: number, licensing = false): RoutingRules {
  return { maxConsults, languageWaitMs: LANGUAGE_MS, priorityAgingMs: AGING_MS, licensing };
}

let userSeq = 0;

/** A new request from a fresh user (or `userId`), with a profile Lua must not alter. */
export function newRequest(over: Partial<NewLiveConsultation> = {}): NewLiveConsultation {
  const userId = over.userId ?? 1000 + ++userSeq;
  return {
    id: `c-${randomUUID()}`,
    appId: 1,
    userId,
    petId: 7,
    type: "chat",
    status: "queued",
    createdAt: T0,
    queueDeadline: T0 + QUEUE_MS,
    requestedVetId: null,
    offer: null,
    excludedVetIds: [],
    vetId: null,
    acceptedAt: null,
    channelSid: null,
    roomSid: null,
    profile: {
      user: { id: userId, first_name: "Ann", last_name: null, email: `u${userId}@example.test` },
      // A float beyond 14 significant digits, an empty array and an empty object: the
      // profile must come back exactly as given.
      pet: { id: 7, name: 'Rex / "Rexy" ü', weight_kg: 12.345678901234567, allergies: [], meta: {}, chip: null },
    },
    ...over,
  };
}

/** A fresh store from `make` for every test, closed and cleaned up after it: read it through the getter. */
export function freshStore(make: () => Promise<StoreFixture>): () => RoutingStore {
  let fixture: StoreFixture | undefined;
  beforeEach(async () => {
    fixture = await make();
  });
  afterEach(async () => {
    await fixture?.store.close();
    await fixture?.cleanup();
    fixture = undefined;
  });
  return () => fixture!.store;
}

/** A vet connected on node `n1` with these skills (defaults otherwise) and available, at `at`. */
export async function availableVet(
  store: RoutingStore,
  vetId: number,
  skills: Partial<VetSkills>,
  at: number,
): Promise<VetPresence> {
  const full: VetSkills = { species: [], languages: ["en"], maxChats: null, version: 0, ...skills };
  await store.addVetConnection(vetId, `v${vetId}-a`, "n1", at, full);
  return (await store.setVetStatus(vetId, "available", at)).presence!;
}

export function routingStoreContract(name: string, make: () => Promise<StoreFixture>): void {
  describe(`RoutingStore contract: ${name}`, () => {
    let store: RoutingStore;
    const current = freshStore(make);
    beforeEach(() => {
      store = current();
    });

    /** Connects a vet through `node` and makes it available at `now`. */
    async function onlineVet(vetId: number, now = T0, node = "n1", connId = `v${vetId}-a`) {
      await store.addVetConnection(vetId, connId, node, now);
      const r = await store.setVetStatus(vetId, "available", now);
      return r.presence!;
    }

    async function enqueue(over: Partial<NewLiveConsultation> = {}): Promise<LiveConsultation> {
      const r = await store.enqueue(newRequest(over));
      expect(r.created).toBe(true);
      return r.consultation;
    }

    /** Claims and asserts success. */
    async function offer(c: LiveConsultation, vetId: number, now = T0, max = 1): Promise<LiveConsultation> {
      const r = await store.claimOffer(c.id, vetId, now, now + OFFER_MS, rulesFor(max));
      if (!r.ok) throw new Error(`claimOffer failed: ${r.reason}`);
      return r.consultation;
    }

    /** An emergency request (served ahead of ordinary waiting ones) made active with the vet. */
    async function activeWith(vetId: number, now = T0): Promise<LiveConsultation> {
      const c = await enqueue({ priority: "emergency" });
      await offer(c, vetId, now);
      const r = await store.acceptOffer(c.id, vetId, now + 1);
      if (!r.ok) throw new Error(`acceptOffer failed: ${r.reason}`);
      return r.consultation;
    }

    /** Every deadline currently scheduled (drains them). */
    async function drainDeadlines() {
      return store.claimDue(FAR, 10_000);
    }

    async function eligibleNow(vetId: number, max = 1): Promise<boolean> {
      const v = await store.getVet(vetId);
      return v !== null && isEligible(v, max);
    }

    // ------------------------------------------------------------------ vets

    describe("vet connections", () => {
      it("first connection brings an unknown vet online as away, idle since now", async () => {
        expect(await store.getVet(1)).toBeNull();
        const p = await store.addVetConnection(1, "a", "n1", T0);
        const expected = {
          vetId: 1,
          status: "away",
          connections: 1,
          idleSince: T0,
          offerConsultationId: null,
          activeConsultationIds: [],
          wrapupUntil: null,
          wrapupConsultationId: null,
        };
        expect(p).toEqual(expected);
        expect(await store.getVet(1)).toEqual(expected);
        expect(await eligibleNow(1)).toBe(false);
      });

      it("counts several connections and keeps status and idleSince while some remain", async () => {
        await store.addVetConnection(1, "a", "n1", T0);
        await store.setVetStatus(1, "available", T0 + 1);
        const p2 = await store.addVetConnection(1, "b", "n2", T0 + 5);
        expect(p2).toMatchObject({ connections: 2, status: "available", idleSince: T0 + 1 });
        // Same connection id again is not a new connection.
        expect((await store.addVetConnection(1, "b", "n2", T0 + 6)).connections).toBe(2);
        const r = await store.removeVetConnection(1, "a", T0 + 7);
        expect(r.released).toBeNull();
        expect(r.presence).toMatchObject({ connections: 1, status: "available", idleSince: T0 + 1 });
        expect(await eligibleNow(1)).toBe(true);
      });

      it("removing an unknown connection changes nothing", async () => {
        await onlineVet(1);
        const r = await store.removeVetConnection(1, "nope", T0 + 1);
        expect(r).toEqual({ presence: await store.getVet(1), released: null, offer: null });
        expect(r.presence?.connections).toBe(1);
        expect(await store.removeVetConnection(99, "x", T0)).toEqual({ presence: null, released: null, offer: null });
      });

      it("last disconnect takes the vet offline and releases its offer with the vet excluded", async () => {
        await onlineVet(1);
        const c = await enqueue();
        await offer(c, 1, T0 + 10);
        const r = await store.removeVetConnection(1, "v1-a", T0 + 20);
        expect(r.presence).toMatchObject({ vetId: 1, connections: 0, offerConsultationId: null });
        expect(r.released).toMatchObject({ id: c.id, status: "queued", offer: null, excludedVetIds: [1] });
        expect(r.offer).toEqual({ vetId: 1, offeredAt: T0 + 10, expiresAt: T0 + 10 + OFFER_MS });
        expect(await store.getConsultation(c.id)).toEqual(r.released);
        expect(await eligibleNow(1)).toBe(false);
        // The offer deadline went with the offer; the queue deadline stays.
        expect(await drainDeadlines()).toEqual([{ kind: "queue", ref: c.id, at: c.queueDeadline }]);
        // Still a known vet, offline.
        const snap = await store.snapshot();
        expect(snap.vets.find((v) => v.vetId === 1)?.connections).toBe(0);
      });

      it("a vet coming back after being offline starts away again", async () => {
        await onlineVet(1);
        await store.removeVetConnection(1, "v1-a", T0 + 1);
        const p = await store.addVetConnection(1, "v1-b", "n1", T0 + 50);
        expect(p).toMatchObject({ status: "away", connections: 1, idleSince: T0 + 50 });
      });
    });

    describe("setVetStatus", () => {
      it("becoming available resets idleSince; staying available does not", async () => {
        await store.addVetConnection(1, "a", "n1", T0);
        const r1 = await store.setVetStatus(1, "available", T0 + 100);
        expect(r1).toEqual({
          presence: expect.objectContaining({ status: "available", idleSince: T0 + 100 }),
          released: null,
          offer: null,
        });
        const r2 = await store.setVetStatus(1, "available", T0 + 200);
        expect(r2.presence?.idleSince).toBe(T0 + 100);
        await store.setVetStatus(1, "away", T0 + 300);
        expect((await store.setVetStatus(1, "available", T0 + 400)).presence?.idleSince).toBe(T0 + 400);
      });

      it("going away releases a held offer with the vet excluded", async () => {
        await onlineVet(1);
        const c = await enqueue();
        await offer(c, 1);
        const r = await store.setVetStatus(1, "away", T0 + 5);
        expect(r.presence).toMatchObject({ status: "away", offerConsultationId: null, connections: 1 });
        expect(r.released).toMatchObject({ id: c.id, status: "queued", offer: null, excludedVetIds: [1] });
        expect(r.offer).toEqual({ vetId: 1, offeredAt: T0, expiresAt: T0 + OFFER_MS });
        expect(await store.getConsultation(c.id)).toEqual(r.released);
      });

      it("going away without an offer releases nothing; unknown vet gives nulls", async () => {
        await onlineVet(1);
        expect((await store.setVetStatus(1, "away", T0 + 1)).released).toBeNull();
        expect(await store.setVetStatus(42, "available", T0)).toEqual({ presence: null, released: null, offer: null });
      });
    });

    // ------------------------------------------------------------------ users

    describe("user connections", () => {
      it("counts connections per user across nodes", async () => {
        expect(await store.addUserConnection(1, 5, "a", "n1")).toBe(1);
        expect(await store.addUserConnection(1, 5, "b", "n2")).toBe(2);
        expect(await store.addUserConnection(1, 5, "b", "n2")).toBe(2);
        expect(await store.addUserConnection(2, 5, "a", "n1")).toBe(1); // another app's user 5
        expect(await store.userConnectionCount(1, 5)).toBe(2);
        expect(await store.removeUserConnection(1, 5, "a")).toBe(1);
        expect(await store.removeUserConnection(1, 5, "nope")).toBe(1);
        expect(await store.userConnectionCount(2, 5)).toBe(1);
        expect(await store.removeUserConnection(1, 5, "b")).toBe(0);
        expect(await store.userConnectionCount(1, 5)).toBe(0);
        expect(await store.userConnectionCount(9, 9)).toBe(0);
        expect(await store.removeUserConnection(1, 5, "b")).toBe(0);
        expect(await store.removeUserConnection(9, 9, "x")).toBe(0);
      });
    });

    // ------------------------------------------------------------------ enqueue

    describe("enqueue", () => {
      it("assigns seq in arrival order, 1-based positions and a queue deadline", async () => {
        const input = newRequest({ queueDeadline: T0 + 123 });
        const a = await store.enqueue(input);
        const b = await store.enqueue(newRequest());
        const c = await store.enqueue(newRequest());
        expect([a.position, b.position, c.position]).toEqual([1, 2, 3]);
        expect(a.consultation.seq).toBeLessThan(b.consultation.seq);
        expect(b.consultation.seq).toBeLessThan(c.consultation.seq);
        const { seq: _seq, ...rest } = a.consultation;
        expect(rest).toEqual({ ...input, status: "queued", offer: null });
        expect(a.consultation.profile).toEqual(input.profile);
        expect(await store.getConsultation(input.id)).toEqual(a.consultation);
        expect(await store.findOpenByUser(1, input.userId)).toEqual(a.consultation);
        const due = await store.claimDue(T0 + 123, 10);
        expect(due).toEqual([{ kind: "queue", ref: input.id, at: T0 + 123 }]);
      });

      it("a second request of the same user returns the open one (created=false)", async () => {
        const first = await store.enqueue(newRequest());
        await enqueue();
        const again = newRequest({ userId: first.consultation.userId, type: "video" });
        const r = await store.enqueue(again);
        expect(r).toEqual({ created: false, consultation: first.consultation, position: 1 });
        expect(await store.getConsultation(again.id)).toBeNull();
        // Same user id in another app is another user.
        expect((await store.enqueue(newRequest({ appId: 2, userId: first.consultation.userId }))).created).toBe(true);
      });

      it("positions count queued and offered requests ahead, not active ones", async () => {
        await onlineVet(1);
        await onlineVet(2);
        const a = await enqueue();
        const b = await enqueue();
        await offer(a, 1);
        expect((await store.enqueue(newRequest())).position).toBe(3);
        await store.acceptOffer(a.id, 1, T0 + 1);
        await offer(b, 2);
        expect((await store.enqueue(newRequest())).position).toBe(3);
        expect((await store.enqueue(newRequest({ userId: b.userId }))).position).toBe(1);
      });

      it("with a cap per app, refuses a request of an app with that many waiting (queued or offered), atomically", async () => {
        await onlineVet(1);
        const a = await store.enqueue(newRequest({ appId: 5 }), 2);
        const b = await store.enqueue(newRequest({ appId: 5 }), 2);
        await offer(a.consultation, 1);
        const refused = newRequest({ appId: 5 });
        await expect(store.enqueue(refused, 2)).rejects.toBeInstanceOf(AppQueueFullError);
        await expect(store.enqueue(refused, 2)).rejects.toMatchObject({
          appId: 5,
          message: "Too many consultations are waiting for this app.",
        });
        expect(await store.getConsultation(refused.id)).toBeNull();
        expect(await store.findOpenByUser(5, refused.userId)).toBeNull();
        // A user with an open consultation gets it back even when the app is full.
        expect(await store.enqueue(newRequest({ appId: 5, userId: b.consultation.userId }), 2)).toMatchObject({
          created: false,
          position: 2,
        });
        // Other apps, and no cap (0, the default), are not limited.
        expect((await store.enqueue(newRequest({ appId: 6 }), 2)).created).toBe(true);
        expect((await store.enqueue(newRequest({ appId: 5 }))).created).toBe(true);
        expect((await store.enqueue(newRequest({ appId: 5 }), 0)).created).toBe(true);
        // Active consultations do not count: accepting one makes room for one more.
        await store.acceptOffer(a.consultation.id, 1, T0 + 1);
        const snapshot = await store.snapshot();
        const waiting = snapshot.queue.filter((c) => c.appId === 5).length;
        expect(waiting).toBe(3);
        await expect(store.enqueue(newRequest({ appId: 5 }), 3)).rejects.toBeInstanceOf(AppQueueFullError);
        expect((await store.enqueue(newRequest({ appId: 5 }), 4)).created).toBe(true);
      });

      it("with a cap, the count follows every step into and out of the queue: finish, accept, revertAccept, transfer, restore", async () => {
        const ask = async () => (await store.enqueue(newRequest({ appId: 9 }), 2)).consultation;
        const refused = () =>
          expect(store.enqueue(newRequest({ appId: 9 }), 2)).rejects.toBeInstanceOf(AppQueueFullError);
        await onlineVet(1, T0, "n1");
        const a = await ask();
        const b = await ask();
        await refused();
        await store.finish(b.id, T0 + 1, null); // closed while queued: room for one
        expect(await store.finish(b.id, T0 + 1, null)).toBeNull(); // twice changes nothing
        const c = await ask();
        await refused();
        const held = (await offer(a, 1, T0 + 2)).offer!; // offered: still waiting
        await refused();
        await store.acceptOffer(a.id, 1, T0 + 3); // active: room for one
        const d = await ask();
        await refused();
        expect(await store.revertAccept(a.id, 1, held)).toBe("offered"); // undone: waiting again
        await store.finish(d.id, T0 + 4, null);
        await refused();
        await store.acceptOffer(a.id, 1, T0 + 5);
        const e = await ask();
        await store.finish(e.id, T0 + 6, null);
        expect((await store.transfer(a.id, T0 + 7, T0 + QUEUE_MS))?.consultation.status).toBe("queued"); // handed back
        await refused();
        await store.finish(a.id, T0 + 8, null);
        expect(await store.restore(e)).toBe(true); // rebuilt: waiting again
        expect(await store.restore(e)).toBe(false); // already there: counted once
        await refused();
        await store.finish(c.id, T0 + 9, null);
        await ask();
        expect((await store.snapshot()).queue.filter((q) => q.appId === 9)).toHaveLength(2);
      });

      it("with a cap, racing requests of one app never queue more than the cap", async () => {
        const results = await Promise.allSettled(
          Array.from({ length: 12 }, () => store.enqueue(newRequest({ appId: 8 }), 5)),
        );
        expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(5);
        expect(results.filter((r) => r.status === "rejected" && r.reason instanceof AppQueueFullError)).toHaveLength(7);
        expect((await store.snapshot()).queue.filter((c) => c.appId === 8)).toHaveLength(5);
      });

      it("findOpenByUser is null for a user with nothing open", async () => {
        expect(await store.findOpenByUser(1, 424242)).toBeNull();
        expect(await store.getConsultation("nope")).toBeNull();
      });
    });

    // ------------------------------------------------------------------ claimOffer

    describe("claimOffer", () => {
      it("offers a queued request to an eligible vet and schedules the offer deadline", async () => {
        await onlineVet(1);
        const c = await enqueue();
        const r = await store.claimOffer(c.id, 1, T0 + 10, T0 + 10 + OFFER_MS, rulesFor(1));
        expect(r.ok).toBe(true);
        if (!r.ok) return;
        expect(r.consultation).toMatchObject({
          id: c.id,
          status: "offered",
          offer: { vetId: 1, offeredAt: T0 + 10, expiresAt: T0 + 10 + OFFER_MS },
        });
        expect(await store.getConsultation(c.id)).toEqual(r.consultation);
        expect((await store.getVet(1))?.offerConsultationId).toBe(c.id);
        expect(await eligibleNow(1)).toBe(false);
        expect(await store.claimDue(T0 + 10 + OFFER_MS, 10)).toEqual([
          { kind: "offer", ref: c.id, at: T0 + 10 + OFFER_MS },
        ]);
      });

      it("refuses a request that is not queued", async () => {
        await onlineVet(1);
        await onlineVet(2);
        expect(await store.claimOffer("nope", 1, T0, T0 + OFFER_MS, rulesFor(1))).toEqual({
          ok: false,
          reason: "consultation_not_queued",
        });
        const c = await enqueue();
        await offer(c, 1);
        expect(await store.claimOffer(c.id, 2, T0, T0 + OFFER_MS, rulesFor(1))).toEqual({
          ok: false,
          reason: "consultation_not_queued",
        });
        await store.acceptOffer(c.id, 1, T0 + 1);
        expect(await store.claimOffer(c.id, 2, T0, T0 + OFFER_MS, rulesFor(1))).toEqual({
          ok: false,
          reason: "consultation_not_queued",
        });
        // The request is checked before the vet.
        expect(await store.claimOffer("nope", 99, T0, T0 + OFFER_MS, rulesFor(1))).toEqual({
          ok: false,
          reason: "consultation_not_queued",
        });
      });

      it("refuses ineligible vets, agreeing with isEligible()", async () => {
        const notEligible = { ok: false, reason: "vet_not_eligible" };
        const c = await enqueue();
        const check = async (vetId: number, max = 1) => {
          const eligible = await eligibleNow(vetId, max);
          const r = await store.claimOffer(c.id, vetId, T0 + 1, T0 + OFFER_MS, rulesFor(max));
          expect(r.ok).toBe(eligible);
          return r;
        };

        // unknown
        expect(await check(10)).toEqual(notEligible);
        // away
        await store.addVetConnection(11, "a", "n1", T0);
        expect(await check(11)).toEqual(notEligible);
        // offline (was available)
        await onlineVet(12);
        await store.removeVetConnection(12, "v12-a", T0);
        expect((await store.getVet(12))?.status).toBe("available");
        expect(await check(12)).toEqual(notEligible);
        // holding an offer
        await onlineVet(13);
        await offer(await enqueue({ priority: "emergency" }), 13);
        expect(await check(13)).toEqual(notEligible);
        // at capacity
        await onlineVet(14);
        await activeWith(14);
        expect(await check(14, 1)).toEqual(notEligible);
        // in wrap-up (nothing active any more)
        await onlineVet(15);
        const done = await activeWith(15);
        await store.finish(done.id, T0 + 2, T0 + 60_000);
        expect(await check(15, 5)).toEqual(notEligible);

        // Nothing changed on the request.
        expect((await store.getConsultation(c.id))?.status).toBe("queued");
        // Below capacity with a higher limit: eligible.
        const ok = await check(14, 2);
        expect(ok.ok).toBe(true);
      });

      it("refuses a vet excluded from the request (after it released it)", async () => {
        await onlineVet(1);
        await onlineVet(2);
        const c = await enqueue();
        await offer(c, 1);
        await store.releaseOffer(c.id, 1);
        expect(await store.claimOffer(c.id, 1, T0 + 2, T0 + OFFER_MS, rulesFor(1))).toEqual({
          ok: false,
          reason: "vet_excluded",
        });
        // Eligibility is checked before exclusion.
        await store.setVetStatus(1, "away", T0 + 3);
        expect(await store.claimOffer(c.id, 1, T0 + 3, T0 + OFFER_MS, rulesFor(1))).toEqual({
          ok: false,
          reason: "vet_not_eligible",
        });
        expect((await store.claimOffer(c.id, 2, T0 + 4, T0 + OFFER_MS, rulesFor(1))).ok).toBe(true);
      });
    });

    // ------------------------------------------------------------------ acceptOffer

    describe("acceptOffer", () => {
      it("the holder accepts before expiry: active, offer and queue deadlines gone", async () => {
        await onlineVet(1);
        const c = await enqueue();
        await offer(c, 1, T0);
        await store.addDeadline("grace", c.id, T0 + 5);
        const r = await store.acceptOffer(c.id, 1, T0 + 100);
        expect(r.ok).toBe(true);
        if (!r.ok) return;
        expect(r.alreadyActive).toBe(false);
        expect(r.consultation).toMatchObject({ status: "active", vetId: 1, acceptedAt: T0 + 100, offer: null });
        expect(await store.getConsultation(c.id)).toEqual(r.consultation);
        expect(await store.getVet(1)).toMatchObject({ offerConsultationId: null, activeConsultationIds: [c.id] });
        expect(await drainDeadlines()).toEqual([]);
        expect((await store.snapshot()).queue).toEqual([]);
        expect(await store.findOpenByUser(c.appId, c.userId)).toEqual(r.consultation);
      });

      it("an expired offer (expiresAt <= now) cannot be accepted and stays offered", async () => {
        await onlineVet(1);
        const c = await enqueue();
        const offered = await offer(c, 1, T0);
        expect(await store.acceptOffer(c.id, 1, T0 + OFFER_MS)).toEqual({ ok: false, reason: "expired" });
        expect(await store.getConsultation(c.id)).toEqual(offered);
        expect((await store.acceptOffer(c.id, 1, T0 + OFFER_MS - 1)).ok).toBe(true);
      });

      it("only the holder: another vet or a request without an offer gets no_offer", async () => {
        await onlineVet(1);
        await onlineVet(2);
        const c = await enqueue();
        expect(await store.acceptOffer(c.id, 1, T0)).toEqual({ ok: false, reason: "no_offer" });
        await offer(c, 1);
        expect(await store.acceptOffer(c.id, 2, T0 + 1)).toEqual({ ok: false, reason: "no_offer" });
        expect(await store.acceptOffer("nope", 1, T0 + 1)).toEqual({ ok: false, reason: "no_offer" });
      });

      it("is idempotent for the same vet; another vet gets no_offer once active", async () => {
        await onlineVet(1);
        await onlineVet(2);
        const c = await enqueue();
        await offer(c, 1);
        const first = await store.acceptOffer(c.id, 1, T0 + 1);
        const again = await store.acceptOffer(c.id, 1, T0 + 2);
        expect(again).toEqual({ ok: true, alreadyActive: true, consultation: first.ok && first.consultation });
        expect((await store.getVet(1))?.activeConsultationIds).toEqual([c.id]);
        expect(await store.acceptOffer(c.id, 2, T0 + 3)).toEqual({ ok: false, reason: "no_offer" });
      });

      it("sets a given channel SID in the same step, only when this accept activates it", async () => {
        await onlineVet(1);
        const c = await enqueue();
        await offer(c, 1);
        const first = await store.acceptOffer(c.id, 1, T0 + 1, "CH-first");
        expect(first.ok && first.consultation.channelSid).toBe("CH-first");
        const again = await store.acceptOffer(c.id, 1, T0 + 2, "CH-second");
        expect(again.ok && again.consultation.channelSid).toBe("CH-first");
        expect((await store.getConsultation(c.id))?.channelSid).toBe("CH-first");
        const refused = await enqueue();
        expect(await store.acceptOffer(refused.id, 1, T0 + 3, "CH-refused")).toEqual({ ok: false, reason: "no_offer" });
        expect((await store.getConsultation(refused.id))?.channelSid).toBeNull();
      });
    });

    // ------------------------------------------------------------------ record first: undo steps

    describe("revertAccept", () => {
      it("acceptOffer returns the offer it resolved; revertAccept puts it back to that vet with its deadlines", async () => {
        await onlineVet(1);
        const c = await enqueue();
        const offered = await offer(c, 1, T0);
        const r = await store.acceptOffer(c.id, 1, T0 + 100, "CH-1");
        if (!r.ok) throw new Error("accept failed");
        expect(r.offer).toEqual({ vetId: 1, offeredAt: T0, expiresAt: T0 + OFFER_MS });
        expect(await store.revertAccept(c.id, 1, r.offer!)).toBe("offered");
        const back = await store.getConsultation(c.id);
        expect(back).toMatchObject({
          status: "offered",
          vetId: null,
          acceptedAt: null,
          offer: offered.offer,
          seq: c.seq,
        });
        expect(await store.getVet(1)).toMatchObject({ offerConsultationId: c.id, activeConsultationIds: [] });
        expect((await store.snapshot()).queue.map((q) => q.id)).toEqual([c.id]);
        expect(await drainDeadlines()).toEqual([
          { kind: "offer", ref: c.id, at: T0 + OFFER_MS },
          { kind: "queue", ref: c.id, at: c.queueDeadline },
        ]);
        // The vet may accept again, within the offer.
        expect((await store.acceptOffer(c.id, 1, T0 + 200)).ok).toBe(true);
      });

      it("queues it (vet not excluded) when the vet holds another offer by now; null when not active with that vet", async () => {
        await onlineVet(1);
        const c = await enqueue();
        await offer(c, 1, T0);
        const r = await store.acceptOffer(c.id, 1, T0 + 1);
        if (!r.ok) throw new Error("accept failed");
        const other = await enqueue();
        await offer(other, 1, T0 + 2, 2); // capacity 2: the vet takes another offer meanwhile
        expect(await store.revertAccept(c.id, 2, r.offer!)).toBeNull();
        expect(await store.revertAccept(c.id, 1, r.offer!)).toBe("queued");
        expect(await store.getConsultation(c.id)).toMatchObject({
          status: "queued",
          offer: null,
          vetId: null,
          excludedVetIds: [],
        });
        expect(await store.getVet(1)).toMatchObject({ offerConsultationId: other.id, activeConsultationIds: [] });
        const r2 = await store.claimOffer(c.id, 2, T0 + 3, T0 + OFFER_MS, rulesFor(1));
        expect(r2).toEqual({ ok: false, reason: "vet_not_eligible" }); // unknown vet 2; the request is claimable again
        await onlineVet(2);
        expect((await store.claimOffer(c.id, 2, T0 + 3, T0 + OFFER_MS, rulesFor(1))).ok).toBe(true);
        expect(await store.revertAccept(c.id, 1, r.offer!)).toBeNull();
      });
    });

    describe("restore", () => {
      it("puts back a finished active consultation with its vet; idempotent", async () => {
        await onlineVet(1);
        const c = await activeWith(1);
        await store.finish(c.id, T0 + 10, null);
        expect(await store.restore(c)).toBe(true);
        expect(await store.restore(c)).toBe(false);
        expect(await store.getConsultation(c.id)).toEqual(c);
        expect(await store.findOpenByUser(c.appId, c.userId)).toEqual(c);
        expect((await store.getVet(1))?.activeConsultationIds).toEqual([c.id]);
        expect((await store.snapshot()).queue).toEqual([]);
      });

      it("puts back a queued one at its seq with its queue deadline; an offered one comes back queued, keeping exclusions", async () => {
        await onlineVet(1);
        await onlineVet(2);
        const a = await enqueue();
        const b = await enqueue({ priority: "emergency" });
        await store.releaseOffer((await offer(b, 1)).id, 1);
        const offeredB = await offer(b, 2);
        await store.finish(a.id, T0 + 1, null);
        await store.finish(b.id, T0 + 1, null);
        expect(await store.restore(offeredB)).toBe(true);
        expect(await store.restore(a)).toBe(true);
        const snap = await store.snapshot();
        expect(snap.queue.map((q) => [q.id, q.status, q.offer, q.excludedVetIds])).toEqual([
          [a.id, "queued", null, []],
          [b.id, "queued", null, [1]],
        ]);
        expect((await store.getVet(2))?.offerConsultationId).toBeNull();
        expect(
          (await drainDeadlines())
            .filter((d) => d.kind === "queue")
            .map((d) => d.ref)
            .sort(),
        ).toEqual([a.id, b.id].sort());
        // A request made after the restore still comes after them.
        const later = await enqueue();
        expect(later.seq).toBeGreaterThan(b.seq);
        expect(await store.claimOffer(b.id, 2, T0 + 2, T0 + OFFER_MS, rulesFor(1))).toMatchObject({ ok: true });
      });

      it("creates an unknown vet offline holding the active one; refuses when the user has another open one", async () => {
        const c = { ...(await enqueue()), status: "active" as const, vetId: 9, acceptedAt: T0 + 5 };
        await store.finish(c.id, T0 + 6, null);
        expect(await store.restore(c)).toBe(true);
        expect(await store.getVet(9)).toMatchObject({ connections: 0, activeConsultationIds: [c.id] });
        const d = await enqueue();
        await store.finish(d.id, T0, null);
        const same = await enqueue({ userId: d.userId });
        expect(await store.restore(d)).toBe(false);
        expect((await store.findOpenByUser(d.appId, d.userId))?.id).toBe(same.id);
      });
    });

    // ------------------------------------------------------------------ releaseOffer

    describe("releaseOffer", () => {
      it("returns the request to the queue with the vet excluded and the vet free", async () => {
        await onlineVet(1);
        const c = await enqueue();
        await offer(c, 1);
        const r = await store.releaseOffer(c.id, 1);
        expect(r?.consultation).toMatchObject({
          id: c.id,
          status: "queued",
          offer: null,
          excludedVetIds: [1],
          seq: c.seq,
        });
        expect(r?.offer).toEqual({ vetId: 1, offeredAt: T0, expiresAt: T0 + OFFER_MS });
        expect(await store.getConsultation(c.id)).toEqual(r?.consultation);
        expect(await store.getVet(1)).toMatchObject({ status: "available", offerConsultationId: null });
        expect(await drainDeadlines()).toEqual([{ kind: "queue", ref: c.id, at: c.queueDeadline }]);
        expect((await store.snapshot()).queue.map((q) => q.id)).toEqual([c.id]);
      });

      it("with setAway the vet is away in the same step", async () => {
        await onlineVet(1);
        const c = await enqueue();
        await offer(c, 1);
        await store.releaseOffer(c.id, 1, { setAway: true });
        expect(await store.getVet(1)).toMatchObject({ status: "away", offerConsultationId: null });
      });

      it("is null when this vet does not hold this offer", async () => {
        await onlineVet(1);
        await onlineVet(2);
        const c = await enqueue();
        expect(await store.releaseOffer(c.id, 1)).toBeNull();
        await offer(c, 1);
        expect(await store.releaseOffer(c.id, 2, { setAway: true })).toBeNull();
        expect((await store.getVet(2))?.status).toBe("available");
        expect(await store.releaseOffer(c.id, 1)).not.toBeNull();
        expect(await store.releaseOffer(c.id, 1)).toBeNull();
        expect(await store.releaseOffer("nope", 1)).toBeNull();
        // Excluded once, not twice, after a second offer/decline round with another vet.
        await offer(c, 2);
        const r = await store.releaseOffer(c.id, 2);
        expect(r?.consultation.excludedVetIds).toEqual([1, 2]);
      });
    });

    // ------------------------------------------------------------------ finish

    describe("finish", () => {
      it("active with wrap-up: vet in wrap-up with a wrapup deadline; user can request again", async () => {
        await onlineVet(1);
        const c = await activeWith(1);
        await drainDeadlines();
        const r = await store.finish(c.id, T0 + 1000, T0 + 61_000);
        expect(r).toEqual({ consultation: c, revokedOfferVetId: null, waiting: 0 });
        expect(await store.getConsultation(c.id)).toBeNull();
        expect(await store.findOpenByUser(c.appId, c.userId)).toBeNull();
        expect(await store.getVet(1)).toMatchObject({
          activeConsultationIds: [],
          wrapupUntil: T0 + 61_000,
          wrapupConsultationId: c.id,
        });
        expect(await eligibleNow(1)).toBe(false);
        expect(await drainDeadlines()).toEqual([{ kind: "wrapup", ref: "1", at: T0 + 61_000 }]);
        const again = await store.enqueue(newRequest({ userId: c.userId }));
        expect(again.created).toBe(true);
        expect(again.consultation.id).not.toBe(c.id);
      });

      it("active without wrap-up: the vet is free at once, idle since now", async () => {
        await onlineVet(1);
        const c = await activeWith(1);
        await store.finish(c.id, T0 + 5000, null);
        expect(await store.getVet(1)).toMatchObject({
          activeConsultationIds: [],
          wrapupUntil: null,
          idleSince: T0 + 5000,
        });
        expect(await eligibleNow(1)).toBe(true);
      });

      it("offered: the offer is revoked and the vet freed", async () => {
        await onlineVet(1);
        const c = await enqueue();
        const offered = await offer(c, 1);
        const r = await store.finish(c.id, T0 + 1, T0 + 60_000);
        expect(r).toEqual({ consultation: offered, revokedOfferVetId: 1, waiting: 0 });
        expect(await store.getVet(1)).toMatchObject({ offerConsultationId: null, wrapupUntil: null });
        expect(await eligibleNow(1)).toBe(true);
        expect((await store.snapshot()).queue).toEqual([]);
        expect(await drainDeadlines()).toEqual([]);
      });

      it("queued: removed with its deadlines; a second finish is null", async () => {
        const c = await enqueue();
        await store.addDeadline("grace", c.id, T0 + 60_000);
        await store.addDeadline("grace", "other", T0 + 60_000);
        const r = await store.finish(c.id, T0 + 1, null);
        expect(r).toEqual({ consultation: c, revokedOfferVetId: null, waiting: 0 });
        expect(await store.finish(c.id, T0 + 2, null)).toBeNull();
        expect(await store.finish("nope", T0 + 2, null)).toBeNull();
        expect(await drainDeadlines()).toEqual([{ kind: "grace", ref: "other", at: T0 + 60_000 }]);
        expect(await store.findOpenByUser(c.appId, c.userId)).toBeNull();
      });

      it("reports how many requests still wait for an offer: queued ones, not offered ones", async () => {
        await onlineVet(1);
        await onlineVet(2);
        const active = await activeWith(1);
        const offered = await offer(await enqueue(), 2);
        const queued = await enqueue();
        const declined = await enqueue({ priority: "emergency" });
        await onlineVet(3);
        await offer(declined, 3);
        await store.releaseOffer(declined.id, 3);
        // Waiting now: `queued` and `declined` (back in the queue); `offered` holds an offer.
        expect((await store.finish(active.id, T0 + 3, null))?.waiting).toBe(2);
        expect((await store.finish(queued.id, T0 + 4, null))?.waiting).toBe(1);
        expect((await store.finish(declined.id, T0 + 5, null))?.waiting).toBe(0);
        expect((await store.finish(offered.id, T0 + 6, null))?.waiting).toBe(0);
      });
    });

    describe("endWrapup", () => {
      it("frees the vet from now and drops the wrapup deadline", async () => {
        await onlineVet(1);
        const c = await activeWith(1);
        await store.finish(c.id, T0 + 100, T0 + 60_000);
        const p = await store.endWrapup(1, T0 + 200);
        expect(p).toMatchObject({ wrapupUntil: null, wrapupConsultationId: null, idleSince: T0 + 200 });
        expect(await store.getVet(1)).toEqual(p);
        expect(await eligibleNow(1)).toBe(true);
        expect(await drainDeadlines()).toEqual([]);
      });

      it("without wrap-up changes nothing; unknown vet is null", async () => {
        const before = await onlineVet(1, T0);
        expect(await store.endWrapup(1, T0 + 500)).toEqual(before);
        expect(await store.endWrapup(77, T0)).toBeNull();
      });
    });

    // ------------------------------------------------------------------ rebuild

    describe("restore", () => {
      const BIG = T0; // rebuild uses created_at (ms) as seq
      const restored = (over: Partial<LiveConsultation> = {}): LiveConsultation => ({
        ...newRequest(over),
        seq: BIG,
        ...over,
      });

      it("queued ones go back at their seq with excluded vets and the queue deadline; enqueue comes after", async () => {
        const second = restored({
          seq: BIG + 20,
          createdAt: T0 + 20,
          queueDeadline: T0 + 20 + QUEUE_MS,
          excludedVetIds: [3],
        });
        const first = restored({ seq: BIG + 10, createdAt: T0 + 10, queueDeadline: T0 + 10 + QUEUE_MS });
        expect(await store.restore(second)).toBe(true);
        expect(await store.restore(first)).toBe(true);
        expect(await store.restore(first)).toBe(false); // idempotent
        const later = await enqueue();
        expect(later.seq).toBeGreaterThan(BIG + 20);
        const snap = await store.snapshot();
        expect(snap.queue.map((q) => q.id)).toEqual([first.id, second.id, later.id]);
        expect(snap.queue[1]).toMatchObject({ status: "queued", offer: null, excludedVetIds: [3] });
        expect(await store.getConsultation(first.id)).toEqual(first);
        expect(await store.findOpenByUser(1, first.userId)).toEqual(first);
        // Offers skip the excluded vet.
        await onlineVet(3);
        expect(await store.claimOffer(second.id, 3, T0, T0 + OFFER_MS, rulesFor(1))).toEqual({
          ok: false,
          reason: "vet_excluded",
        });
        const due = await drainDeadlines();
        expect(due).toContainEqual({ kind: "queue", ref: first.id, at: T0 + 10 + QUEUE_MS });
        expect(due).toContainEqual({ kind: "queue", ref: second.id, at: T0 + 20 + QUEUE_MS });
      });

      it("an offered one passed as queued has no offer", async () => {
        const c = restored({ status: "queued", offer: null });
        expect(await store.restore(c)).toBe(true);
        await onlineVet(2);
        expect((await store.claimOffer(c.id, 2, T0, T0 + OFFER_MS, rulesFor(1))).ok).toBe(true);
      });

      it("active ones: the vet holds it (created offline and away when unknown), no deadlines", async () => {
        const c = restored({ status: "active", vetId: 5, acceptedAt: T0 + 5, channelSid: "CH1", roomSid: "RM1" });
        expect(await store.restore(c)).toBe(true);
        expect(await store.getConsultation(c.id)).toEqual(c);
        expect(await store.getVet(5)).toMatchObject({ status: "away", connections: 0, activeConsultationIds: [c.id] });
        expect((await store.snapshot()).queue).toEqual([]);
        expect(await drainDeadlines()).toEqual([]);
        // The vet reconnects: busy, not eligible at one consultation each.
        await onlineVet(5);
        expect(await eligibleNow(5)).toBe(false);
        const fin = await store.finish(c.id, T0 + 100, null);
        expect(fin?.consultation.id).toBe(c.id);
        expect(await eligibleNow(5)).toBe(true);
      });

      it("a user with another open consultation is left alone", async () => {
        const open = await enqueue({ userId: 4242 });
        expect(await store.restore(restored({ userId: 4242 }))).toBe(false);
        expect((await store.snapshot()).queue.map((q) => q.id)).toEqual([open.id]);
      });

      it("restoreWrapup puts the vet in wrap-up with its deadline, at least until the given time", async () => {
        expect(await store.restoreWrapup(6, "c-x", T0 + 60_000)).toBe(true);
        expect(await store.restoreWrapup(6, "c-y", T0 + 30_000)).toBe(false);
        expect(await store.getVet(6)).toMatchObject({
          connections: 0,
          wrapupUntil: T0 + 60_000,
          wrapupConsultationId: "c-x",
        });
        await onlineVet(6);
        expect(await eligibleNow(6)).toBe(false);
        expect(await drainDeadlines()).toEqual([{ kind: "wrapup", ref: "6", at: T0 + 60_000 }]);
      });

      it("epoch marker and rebuild lock: one holder, the marker set releases the lock", async () => {
        expect(await store.liveEpoch()).toBeNull();
        expect(await store.claimRebuild("a", 10_000)).toBe(true);
        expect(await store.claimRebuild("b", 10_000)).toBe(false);
        await store.setLiveEpoch("e1", "a");
        expect(await store.liveEpoch()).toBe("e1");
        expect(await store.claimRebuild("b", 10_000)).toBe(true);
      });

      it("the lock's holder claims it again (a failed rebuild retries at once); others still cannot", async () => {
        expect(await store.claimRebuild("a", 10_000)).toBe(true);
        expect(await store.claimRebuild("a", 10_000)).toBe(true);
        expect(await store.claimRebuild("b", 10_000)).toBe(false);
      });

      it("the marker is set only by the lock's holder (a rebuild that outlived its lock or data sets nothing)", async () => {
        expect(await store.setLiveEpoch("e0", "nobody")).toBe(false);
        expect(await store.liveEpoch()).toBeNull();
        expect(await store.claimRebuild("a", 10_000)).toBe(true);
        expect(await store.setLiveEpoch("e1", "b")).toBe(false);
        expect(await store.setLiveEpoch("e1", "a")).toBe(true);
        expect(await store.liveEpoch()).toBe("e1");
        expect(await store.setLiveEpoch("e2", "a")).toBe(false);
        expect(await store.liveEpoch()).toBe("e1");
      });
    });

    // ------------------------------------------------------------------ assignDirect

    describe("assignDirect", () => {
      it("creates an active consultation for an eligible vet", async () => {
        await onlineVet(1);
        const input = newRequest({ requestedVetId: 1 });
        const r = await store.assignDirect(input, 1, T0 + 10, rulesFor(1));
        expect(r.ok).toBe(true);
        if (!r.ok) return;
        expect(r.consultation).toMatchObject({
          id: input.id,
          status: "active",
          vetId: 1,
          acceptedAt: T0 + 10,
          offer: null,
        });
        expect(typeof r.consultation.seq).toBe("number");
        expect(r.consultation.profile).toEqual(input.profile);
        expect(await store.getConsultation(input.id)).toEqual(r.consultation);
        expect(await store.findOpenByUser(input.appId, input.userId)).toEqual(r.consultation);
        expect((await store.getVet(1))?.activeConsultationIds).toEqual([input.id]);
        expect((await store.snapshot()).queue).toEqual([]);
        // At capacity now.
        expect(await store.assignDirect(newRequest(), 1, T0 + 11, rulesFor(1))).toEqual({
          ok: false,
          reason: "vet_not_eligible",
        });
        expect((await store.assignDirect(newRequest(), 1, T0 + 11, rulesFor(2))).ok).toBe(true);
      });

      it("refuses an ineligible vet", async () => {
        await store.addVetConnection(1, "a", "n1", T0); // away
        expect(await store.assignDirect(newRequest(), 1, T0, rulesFor(1))).toEqual({
          ok: false,
          reason: "vet_not_eligible",
        });
        expect(await store.assignDirect(newRequest(), 99, T0, rulesFor(1))).toEqual({
          ok: false,
          reason: "vet_not_eligible",
        });
        await onlineVet(2);
        await offer(await enqueue(), 2);
        const input = newRequest();
        expect(await store.assignDirect(input, 2, T0, rulesFor(1))).toEqual({ ok: false, reason: "vet_not_eligible" });
        expect(await store.findOpenByUser(input.appId, input.userId)).toBeNull();
      });

      it("refuses a user with an open consultation, returning it", async () => {
        await onlineVet(1);
        const open = await enqueue();
        const r = await store.assignDirect(newRequest({ userId: open.userId }), 1, T0, rulesFor(1));
        expect(r).toEqual({ ok: false, reason: "user_has_open", existing: open });
        expect((await store.getVet(1))?.activeConsultationIds).toEqual([]);
      });
    });

    // ------------------------------------------------------------------ deadlines

    describe("transfer", () => {
      it("hands an active consultation back to the head of the queue: same id, no vet, vet excluded", async () => {
        await onlineVet(1);
        const waiting1 = await enqueue();
        const waiting2 = await enqueue();
        const a = await activeWith(1);
        await store.updateSids(a.id, { channelSid: "CHx" });
        await drainDeadlines();
        const r = await store.transfer(a.id, T0 + 5000, T0 + 5000 + QUEUE_MS);
        expect(r).not.toBeNull();
        expect(r!.fromVetId).toBe(1);
        expect(r!.position).toBe(1);
        expect(r!.consultation).toMatchObject({
          id: a.id,
          status: "queued",
          vetId: null,
          acceptedAt: null,
          offer: null,
          transferred: true,
          excludedVetIds: [1],
          channelSid: "CHx",
          queueDeadline: T0 + 5000 + QUEUE_MS,
        });
        expect(r!.consultation.profile).toEqual(a.profile);
        const vet = (await store.getVet(1))!;
        expect(vet.activeConsultationIds).toEqual([]);
        expect(vet.idleSince).toBe(T0 + 5000);
        // Ahead of every waiting request, in snapshots and positions alike.
        expect((await store.snapshot()).queue.map((q) => q.id)).toEqual([a.id, waiting1.id, waiting2.id]);
        const again = await store.enqueue(newRequest({ userId: waiting1.userId }));
        expect(again.position).toBe(2);
        expect((await store.enqueue(newRequest())).position).toBe(4);
        expect(await store.findOpenByUser(a.appId, a.userId)).toMatchObject({ id: a.id, status: "queued" });
        expect(await drainDeadlines()).toContainEqual({ kind: "queue", ref: a.id, at: T0 + 5000 + QUEUE_MS });
      });

      it("the transferred request can be offered to another vet, never the old one, and accepted", async () => {
        await onlineVet(1);
        const a = await activeWith(1);
        await store.transfer(a.id, T0 + 10, T0 + QUEUE_MS);
        await store.endWrapup(1, T0 + 10);
        expect(await store.claimOffer(a.id, 1, T0 + 20, T0 + 20 + OFFER_MS, rulesFor(1))).toEqual({
          ok: false,
          reason: "vet_excluded",
        });
        await onlineVet(2);
        await offer(a, 2, T0 + 20);
        const acc = await store.acceptOffer(a.id, 2, T0 + 30);
        expect(acc.ok && acc.consultation).toMatchObject({ id: a.id, status: "active", vetId: 2 });
        expect((await store.snapshot()).queue).toEqual([]);
        expect((await store.getVet(2))!.activeConsultationIds).toEqual([a.id]);
      });

      it("two transferred requests keep their seq order between them; not active → null", async () => {
        await onlineVet(1);
        await onlineVet(2);
        const q = await enqueue();
        const a = await activeWith(1);
        const b = await activeWith(2);
        expect((await store.transfer(b.id, T0, T0 + QUEUE_MS))!.position).toBe(1);
        expect((await store.transfer(a.id, T0, T0 + QUEUE_MS))!.position).toBe(1);
        expect((await store.snapshot()).queue.map((x) => x.id)).toEqual([a.id, b.id, q.id]);
        expect(await store.transfer(a.id, T0, T0 + QUEUE_MS)).toBeNull();
        expect(await store.transfer(q.id, T0, T0 + QUEUE_MS)).toBeNull();
        expect(await store.transfer("missing", T0, T0 + QUEUE_MS)).toBeNull();
      });

      it("with ifVetOffline: refused while the vet has a connection, done once it has none", async () => {
        await onlineVet(1);
        const a = await activeWith(1);
        expect(await store.transfer(a.id, T0, T0 + QUEUE_MS, { ifVetOffline: true })).toBeNull();
        expect(await store.getConsultation(a.id)).toMatchObject({ status: "active", vetId: 1 });
        expect((await store.getVet(1))!.activeConsultationIds).toEqual([a.id]);
        await store.removeVetConnection(1, "v1-a", T0);
        expect(await store.transfer(a.id, T0, T0 + QUEUE_MS, { ifVetOffline: true })).toMatchObject({ fromVetId: 1 });
      });

      it("vet_grace deadlines are kept and claimed like the others (ref = vet id)", async () => {
        await store.addDeadline("vet_grace", "12", T0 + 10);
        expect(await store.claimDue(T0 + 10, 10)).toEqual([{ kind: "vet_grace", ref: "12", at: T0 + 10 }]);
      });
    });

    describe("deadlines", () => {
      it("claimDue returns due deadlines in time order, each once, up to limit", async () => {
        await store.addDeadline("offer", "c3", T0 + 30);
        await store.addDeadline("queue", "c1", T0 + 10);
        await store.addDeadline("grace", "c2", T0 + 20);
        await store.addDeadline("wrapup", "7", T0 + 40);
        await store.addDeadline("queue", "later", T0 + 1000);
        expect(await store.claimDue(T0 + 5, 10)).toEqual([]);
        expect(await store.claimDue(T0 + 40, 2)).toEqual([
          { kind: "queue", ref: "c1", at: T0 + 10 },
          { kind: "grace", ref: "c2", at: T0 + 20 },
        ]);
        expect(await store.claimDue(T0 + 40, 10)).toEqual([
          { kind: "offer", ref: "c3", at: T0 + 30 },
          { kind: "wrapup", ref: "7", at: T0 + 40 },
        ]);
        expect(await store.claimDue(T0 + 40, 10)).toEqual([]);
        expect(await store.claimDue(T0 + 1000, 0)).toEqual([]);
        expect(await store.claimDue(T0 + 1000, 10)).toEqual([{ kind: "queue", ref: "later", at: T0 + 1000 }]);
      });

      it("removeDeadline cancels; adding again moves; refs may contain ':'", async () => {
        await store.addDeadline("grace", "a", T0 + 10);
        await store.addDeadline("grace", "b", T0 + 10);
        await store.removeDeadline("grace", "a");
        await store.removeDeadline("grace", "missing");
        await store.addDeadline("grace", "b", T0 + 50);
        await store.addDeadline("queue", "x:y", T0 + 20);
        expect(await store.claimDue(T0 + 30, 10)).toEqual([{ kind: "queue", ref: "x:y", at: T0 + 20 }]);
        expect(await store.claimDue(T0 + 50, 10)).toEqual([{ kind: "grace", ref: "b", at: T0 + 50 }]);
      });
    });

    // ------------------------------------------------------------------ nodes

    describe("nodes", () => {
      it("a node that stops heartbeating is reaped once; a live node is untouched", async () => {
        const TTL = 15_000;
        await store.heartbeat("n1", T0, TTL);
        await store.heartbeat("n2", T0, TTL);
        await onlineVet(1, T0, "n1", "v1-a"); // only on n1, will hold an offer
        await onlineVet(2, T0, "n1", "v2-a"); // on both nodes
        await store.addVetConnection(2, "v2-b", "n2", T0);
        await onlineVet(3, T0, "n2", "v3-a"); // only on n2
        await onlineVet(4, T0, "n1", "v4-a"); // only on n1, no offer
        const c = await enqueue();
        await offer(c, 1);
        await store.addUserConnection(1, 100, "u100", "n1");
        await store.addUserConnection(1, 101, "u101-a", "n1");
        await store.addUserConnection(1, 101, "u101-b", "n2");

        await store.heartbeat("n2", T0 + 10_000, TTL);
        // Lapsed means expiry strictly before now.
        expect(await store.reapDeadNodes(T0 + TTL)).toEqual([]);

        const cleaned = await store.reapDeadNodes(T0 + TTL + 1);
        expect(cleaned).toHaveLength(1);
        const [n1] = cleaned;
        expect(n1.nodeId).toBe("n1");
        expect([...n1.offlineVetIds].sort()).toEqual([1, 4]);
        expect(n1.released).toHaveLength(1);
        expect(n1.released[0].vetId).toBe(1);
        expect(n1.released[0].offer).toMatchObject({ vetId: 1 });
        expect(n1.released[0].consultation).toMatchObject({
          id: c.id,
          status: "queued",
          offer: null,
          excludedVetIds: [1],
        });
        expect(n1.disconnectedUsers).toEqual([{ appId: 1, userId: 100 }]);

        expect(await store.getVet(1)).toMatchObject({ connections: 0, offerConsultationId: null });
        expect(await store.getVet(2)).toMatchObject({ connections: 1, status: "available" });
        expect(await store.getVet(3)).toMatchObject({ connections: 1 });
        expect(await store.getVet(4)).toMatchObject({ connections: 0 });
        expect(await store.getConsultation(c.id)).toEqual(n1.released[0].consultation);
        expect(await store.removeUserConnection(1, 101, "nope")).toBe(1);

        // Once only.
        expect(await store.reapDeadNodes(T0 + TTL + 2)).toEqual([]);
        expect(await store.reapDeadNodes(T0 + 10_000 + TTL)).toEqual([]);
        // n2 lapses later.
        const later = await store.reapDeadNodes(T0 + 10_000 + TTL + 1);
        expect(later.map((x) => x.nodeId)).toEqual(["n2"]);
        expect([...later[0].offlineVetIds].sort()).toEqual([2, 3]);
        expect(later[0].disconnectedUsers).toEqual([{ appId: 1, userId: 101 }]);
      });

      it("heartbeat tells a node whether it was still registered (new or reaped → false)", async () => {
        expect(await store.heartbeat("n1", T0, 1000)).toBe(false);
        expect(await store.heartbeat("n1", T0 + 500, 1000)).toBe(true);
        // Missed its heartbeats and reaped by someone else: it learns so on the next beat.
        expect(await store.reapDeadNodes(T0 + 1501)).toHaveLength(1);
        expect(await store.heartbeat("n1", T0 + 1600, 1000)).toBe(false);
        // Late but not yet reaped: still registered.
        expect(await store.heartbeat("n1", T0 + 2700, 1000)).toBe(true);
      });

      it("a node that keeps heartbeating is never reaped", async () => {
        await store.heartbeat("n1", T0, 1000);
        await onlineVet(1, T0, "n1");
        for (let t = T0 + 500; t < T0 + 5000; t += 500) {
          await store.heartbeat("n1", t, 1000);
          expect(await store.reapDeadNodes(t + 1)).toEqual([]);
        }
        expect((await store.getVet(1))?.connections).toBe(1);
      });

      it("removeNode cleans up like a dead node", async () => {
        await store.heartbeat("n1", T0, 15_000);
        await onlineVet(1, T0, "n1");
        const c = await enqueue();
        await offer(c, 1);
        await store.addUserConnection(2, 200, "u", "n1");
        const r = await store.removeNode("n1", T0 + 1);
        expect(r.nodeId).toBe("n1");
        expect(r.offlineVetIds).toEqual([1]);
        expect(r.released).toEqual([
          {
            consultation: await store.getConsultation(c.id),
            vetId: 1,
            offer: { vetId: 1, offeredAt: T0, expiresAt: T0 + OFFER_MS },
          },
        ]);
        expect(r.released[0].consultation).toMatchObject({ status: "queued", excludedVetIds: [1] });
        expect(r.disconnectedUsers).toEqual([{ appId: 2, userId: 200 }]);
        // Removed, so not reaped later.
        expect(await store.reapDeadNodes(T0 + 100_000)).toEqual([]);
        // Removing a node with nothing on it is harmless.
        expect(await store.removeNode("ghost", T0)).toEqual({
          nodeId: "ghost",
          offlineVetIds: [],
          released: [],
          disconnectedUsers: [],
        });
      });
    });

    // ------------------------------------------------------------------ reads

    describe("routing rules (PROTOCOL §4)", () => {
      const skilled = async (vetId: number, skills: Partial<VetSkills>, now = T0) => {
        const full: VetSkills = { species: [], languages: ["en"], maxChats: null, version: 0, ...skills };
        await store.addVetConnection(vetId, `v${vetId}-a`, "n1", now, full);
        return (await store.setVetStatus(vetId, "available", now)).presence!;
      };
      const claim = (c: LiveConsultation, vetId: number, now = T0 + 1, max = 1) =>
        store.claimOffer(c.id, vetId, now, now + OFFER_MS, rulesFor(max));

      it("keeps skills given on connect and replaced by setVetSkills", async () => {
        const v = await skilled(1, { species: ["dog", "cat"], languages: ["es", "en"], maxChats: 3, version: 1 });
        expect(v.skills).toEqual({ species: ["dog", "cat"], languages: ["es", "en"], maxChats: 3, version: 1 });
        await store.setVetSkills(1, { species: [], languages: ["fr"], maxChats: null, version: 2 });
        expect((await store.getVet(1))!.skills).toEqual({ species: [], languages: ["fr"], maxChats: null, version: 2 });
        expect((await store.snapshot()).vets[0].skills).toEqual({
          species: [],
          languages: ["fr"],
          maxChats: null,
          version: 2,
        });
        // A second connection without skills keeps them.
        await store.addVetConnection(1, "v1-b", "n1", T0);
        expect((await store.getVet(1))!.skills?.languages).toEqual(["fr"]);
      });

      describe("skills versions: an older version never replaces a newer one", () => {
        const catsV5: VetSkills = { species: ["cat"], languages: ["fr"], maxChats: 2, version: 5 };
        const dogsV4: VetSkills = { species: ["dog"], languages: ["en"], maxChats: null, version: 4 };
        const skillsOf = async (vetId: number) => ({
          vet: (await store.getVet(vetId))!.skills,
          snapshot: (await store.snapshot()).vets.find((v) => v.vetId === vetId)?.skills,
        });

        it("setVetSkills newer, then a connect that read older skills: the newer stay, and routing uses them", async () => {
          await skilled(1, { ...dogsV4, version: 3 });
          await store.setVetSkills(1, catsV5);
          // A second socket of the vet, whose node read the skills before the change.
          const v = await store.addVetConnection(1, "v1-b", "n2", T0, dogsV4);
          expect(v.skills).toEqual(catsV5);
          expect(await skillsOf(1)).toEqual({ vet: catsV5, snapshot: catsV5 });
          const cat = await enqueue({ species: "cat" });
          expect((await claim(cat, 1, T0 + 1, 1)).ok).toBe(true);
        });

        it("a connect with newer skills, then a setVetSkills that is older: the newer stay", async () => {
          await skilled(1, catsV5);
          await store.setVetSkills(1, dogsV4);
          expect(await skillsOf(1)).toEqual({ vet: catsV5, snapshot: catsV5 });
          const dog = await enqueue({ species: "dog" });
          expect(await claim(dog, 1)).toEqual({ ok: false, reason: "vet_not_eligible" });
          // Equal versions are the same record: taken. Higher: taken.
          await store.setVetSkills(1, { ...catsV5, maxChats: 3 });
          expect((await store.getVet(1))!.skills).toEqual({ ...catsV5, maxChats: 3 });
          await store.setVetSkills(1, { ...dogsV4, version: 6 });
          expect((await store.getVet(1))!.skills).toEqual({ ...dogsV4, version: 6 });
        });

        it("two setVetSkills in either order end with the newer", async () => {
          await skilled(1, { version: 0 });
          await store.setVetSkills(1, catsV5);
          await store.setVetSkills(1, dogsV4);
          expect((await store.getVet(1))!.skills).toEqual(catsV5);
          await skilled(2, { version: 0 });
          await store.setVetSkills(2, dogsV4);
          await store.setVetSkills(2, catsV5);
          expect((await store.getVet(2))!.skills).toEqual(catsV5);
        });

        it("a vet routing does not know yet: setVetSkills creates it offline with them; its first connect with older skills keeps them", async () => {
          await store.setVetSkills(7, catsV5);
          expect(await store.getVet(7)).toMatchObject({
            vetId: 7,
            status: "away",
            connections: 0,
            offerConsultationId: null,
            activeConsultationIds: [],
            skills: catsV5,
          });
          expect(isEligible((await store.getVet(7))!, 1)).toBe(false);
          const v = await store.addVetConnection(7, "v7-a", "n1", T0 + 5, dogsV4);
          expect(v).toMatchObject({ status: "away", connections: 1, idleSince: T0 + 5, skills: catsV5 });
          expect(await skillsOf(7)).toEqual({ vet: catsV5, snapshot: catsV5 });
        });

        it("the connect that read newer skills than a vet created by setVetSkills takes them", async () => {
          await store.setVetSkills(8, dogsV4);
          expect((await store.addVetConnection(8, "v8-a", "n1", T0, catsV5)).skills).toEqual(catsV5);
        });
      });

      it("species is strict: a vet is offered only species they treat; no species list treats all; no pet species goes to anyone", async () => {
        await skilled(1, { species: ["dog"] });
        await skilled(2, {});
        const cat = await enqueue({ species: "cat" });
        expect(await claim(cat, 1)).toEqual({ ok: false, reason: "vet_not_eligible" });
        expect((await claim(cat, 2)).ok).toBe(true);
        const unknown = await enqueue({ species: null });
        expect((await claim(unknown, 1)).ok).toBe(true);
      });

      it("language: only speakers while the request is in its window, anyone after; the requested vet regardless", async () => {
        await skilled(1, { languages: ["en"] });
        await skilled(2, { languages: ["en"] });
        const fr = await enqueue({ language: "fr", createdAt: T0 });
        expect(await claim(fr, 1, T0 + 59_999)).toEqual({ ok: false, reason: "vet_not_eligible" });
        expect((await claim(fr, 1, T0 + 60_000)).ok).toBe(true);
        const asked = await enqueue({ language: "fr", createdAt: T0, requestedVetId: 2 });
        expect((await claim(asked, 2, T0 + 1)).ok).toBe(true);
      });

      it("capacity per channel: max_chats chats at once; a video only to a vet holding nothing, and held alone", async () => {
        await skilled(1, { maxChats: 2 });
        for (let i = 0; i < 2; i++) {
          const c = await enqueue({ type: "chat" });
          expect((await claim(c, 1)).ok).toBe(true);
          expect((await store.acceptOffer(c.id, 1, T0 + 2)).ok).toBe(true);
        }
        const third = await enqueue({ type: "chat" });
        expect(await claim(third, 1)).toEqual({ ok: false, reason: "vet_not_eligible" });
        await store.finish(third.id, T0 + 3, null);

        await skilled(2, { maxChats: 3 });
        const chat = await enqueue({ type: "chat" });
        expect((await claim(chat, 2)).ok).toBe(true);
        await store.acceptOffer(chat.id, 2, T0 + 2);
        const video = await enqueue({ type: "video" });
        expect(await claim(video, 2)).toEqual({ ok: false, reason: "vet_not_eligible" });
        await store.finish(chat.id, T0 + 3, null);
        expect((await claim(video, 2, T0 + 4)).ok).toBe(true);
        await store.acceptOffer(video.id, 2, T0 + 5);
        expect((await store.getVet(2))!.holdsVideo).toBe(true);
        const after = await enqueue({ type: "chat" });
        expect(await claim(after, 2, T0 + 6)).toEqual({ ok: false, reason: "vet_not_eligible" });
        await store.finish(video.id, T0 + 7, null);
        expect((await store.getVet(2))!.holdsVideo).toBeUndefined();
        expect((await claim(after, 2, T0 + 8)).ok).toBe(true);
      });

      it("refuses out of order: a request waiting ahead in serving order that the vet could take goes first", async () => {
        await skilled(1, {});
        const normal = await enqueue({ priority: "normal" });
        const protectedOne = await enqueue({ priority: "protected" });
        const emergency = await enqueue({ priority: "emergency" });
        expect(await claim(normal, 1)).toEqual({ ok: false, reason: "out_of_order" });
        expect(await claim(protectedOne, 1)).toEqual({ ok: false, reason: "out_of_order" });
        expect((await claim(emergency, 1)).ok).toBe(true);
        // One the vet cannot take (species) does not hold the others back.
        await skilled(2, { species: ["dog"] });
        const cat = await enqueue({ priority: "emergency", species: "cat" });
        expect((await store.getConsultation(cat.id))?.status).toBe("queued");
        expect((await claim(protectedOne, 2)).ok).toBe(true);
      });

      it("the order check reads urgent requests behind QUEUE_HEAD_LIMIT ordinary ones: a later emergency the vet can take still goes first", async () => {
        await skilled(1, { species: ["dog"] });
        for (let i = 0; i < QUEUE_HEAD_LIMIT; i++) await enqueue({ species: "cat" });
        const dog = await enqueue({ species: "dog" });
        const emergencyDog = await enqueue({ species: "dog", priority: "emergency" });
        expect(await claim(dog, 1)).toEqual({ ok: false, reason: "out_of_order" });
        expect((await claim(emergencyDog, 1)).ok).toBe(true);
      });

      it("the order check reads the head of the species the vet treats: an older dog behind QUEUE_HEAD_LIMIT requests of other species still goes first", async () => {
        await skilled(1, { species: ["dog"] });
        for (let i = 0; i < QUEUE_HEAD_LIMIT; i++) await enqueue({ species: "iguana" });
        const older = await enqueue({ species: "dog" });
        const newer = await enqueue({ species: "dog" });
        expect(await claim(newer, 1)).toEqual({ ok: false, reason: "out_of_order" });
        expect((await claim(older, 1)).ok).toBe(true);
      });

      it("each urgent class is read apart per species: an emergency dog behind 200 protected cats, 200 dogs and 200 protected dogs is in the head and goes first", async () => {
        await skilled(1, { species: ["dog"] });
        for (let i = 0; i < QUEUE_HEAD_LIMIT; i++) await enqueue({ species: "cat", priority: "protected" });
        const oldestDog = await enqueue({ species: "dog" });
        for (let i = 1; i < QUEUE_HEAD_LIMIT; i++) await enqueue({ species: "dog" });
        const protectedDog = await enqueue({ species: "dog", priority: "protected" });
        for (let i = 1; i < QUEUE_HEAD_LIMIT; i++) await enqueue({ species: "dog", priority: "protected" });
        const emergencyDog = await enqueue({ species: "dog", priority: "emergency" });
        const head = (await store.headSnapshot(1)).queue.map((q) => q.id);
        expect(head).toContain(emergencyDog.id);
        expect(head).toContain(oldestDog.id);
        expect(head).toContain(protectedDog.id);
        expect(await claim(oldestDog, 1)).toEqual({ ok: false, reason: "out_of_order" });
        expect(await claim(protectedDog, 1)).toEqual({ ok: false, reason: "out_of_order" });
        expect((await claim(emergencyDog, 1)).ok).toBe(true);
      });

      it("aging: every PRIORITY_AGING_MS waited lifts a request one class, so an old ordinary request goes before a new protected one", async () => {
        await skilled(1, {});
        const old = await enqueue({ priority: "normal", createdAt: T0 });
        const fresh = await enqueue({ priority: "protected", createdAt: T0 + 299_000 });
        expect(await claim(old, 1, T0 + 299_500)).toEqual({ ok: false, reason: "out_of_order" });
        // At 300 s the old one is protected too, and older.
        expect(await claim(fresh, 1, T0 + 300_000)).toEqual({ ok: false, reason: "out_of_order" });
        expect((await claim(old, 1, T0 + 300_000)).ok).toBe(true);
      });

      it("answers the place in serving order on enqueue: classes first, arrival within a class; transferred ahead of all", async () => {
        expect((await store.enqueue(newRequest({ priority: "normal" }), 0, 300_000)).position).toBe(1);
        expect((await store.enqueue(newRequest({ priority: "protected" }), 0, 300_000)).position).toBe(1);
        expect((await store.enqueue(newRequest({ priority: "normal" }), 0, 300_000)).position).toBe(3);
        expect((await store.enqueue(newRequest({ priority: "emergency" }), 0, 300_000)).position).toBe(1);
        const p = await store.enqueue(newRequest({ priority: "protected" }), 0, 300_000);
        expect(p.position).toBe(3);
        // The same user asking again gets the open one at its place.
        expect((await store.enqueue(newRequest({ userId: p.consultation.userId }), 0, 300_000)).position).toBe(3);
      });

      it("the place answered on enqueue counts those aged into the new request's class or higher, offered ones too, and not those gone", async () => {
        const AGING = 60_000;
        const at = (createdAt: number, priority?: "emergency" | "protected") =>
          store.enqueue(
            newRequest({ createdAt, queueDeadline: createdAt + QUEUE_MS, ...(priority ? { priority } : {}) }),
            0,
            AGING,
          );
        const now = T0 + 10 * AGING;
        const first = (await at(now - 2 * AGING)).consultation; // normal, aged two steps: emergency now
        await at(now - 2 * AGING + 1); // normal, a millisecond short of two steps: protected now
        await at(now - AGING, "protected"); // protected, aged one step: emergency now
        await at(now - AGING + 1, "protected"); // protected
        const gone = (await at(now - 5 * AGING)).consultation; // normal, aged: but it ends
        await onlineVet(1);
        // Offered, so still in the queue (it is first in serving order).
        expect(
          (await store.claimOffer(first.id, 1, now, now + 30_000, { ...rulesFor(1), priorityAgingMs: AGING })).ok,
        ).toBe(true);
        await store.finish(gone.id, now, null);
        // An emergency: behind the two aged into emergency, itself counted.
        expect((await at(now, "emergency")).position).toBe(3);
        // A protected request: behind the three emergencies and the two protected now, itself counted.
        expect((await at(now, "protected")).position).toBe(6);
        // An ordinary one: last of seven.
        expect((await at(now)).position).toBe(7);
      });

      it("assignDirect checks species and channel but not language", async () => {
        await skilled(1, { species: ["dog"], languages: ["en"] });
        expect(await store.assignDirect(newRequest({ species: "cat" }), 1, T0, rulesFor(1))).toEqual({
          ok: false,
          reason: "vet_not_eligible",
        });
        const r = await store.assignDirect(
          newRequest({ species: "dog", language: "fr", type: "video" }),
          1,
          T0,
          rulesFor(3),
        );
        expect(r.ok).toBe(true);
        expect((await store.getVet(1))!.holdsVideo).toBe(true);
      });

      it("keeps species, language and priority on the consultation through every step", async () => {
        await skilled(1, {});
        const c = await enqueue({ species: "rabbit", language: "de", priority: "protected" });
        expect(c).toMatchObject({ species: "rabbit", language: "de", priority: "protected" });
        const offered = await claim(c, 1, T0 + 60_000);
        expect(offered.ok && offered.consultation).toMatchObject({
          species: "rabbit",
          language: "de",
          priority: "protected",
        });
        expect((await store.snapshot()).queue[0]).toMatchObject({
          species: "rabbit",
          language: "de",
          priority: "protected",
        });
      });
    });

    describe("snapshot", () => {
      it("holds queued and offered requests in seq order and every known vet", async () => {
        expect(await store.snapshot()).toEqual({ queue: [], vets: [] });
        await onlineVet(3);
        await onlineVet(1);
        await store.addVetConnection(2, "a", "n1", T0); // away
        await onlineVet(4);
        await store.removeVetConnection(4, "v4-a", T0); // offline but known
        const a = await enqueue();
        const b = await enqueue({ priority: "emergency" });
        const c = await enqueue();
        const d = await enqueue();
        const offeredB = await offer(b, 1);
        await offer(a, 3);
        await store.acceptOffer(a.id, 3, T0 + 1); // active: not in the queue
        const snap = await store.snapshot();
        // Planning reads no profiles, so the snapshot leaves them out.
        const entry = ({ profile: _profile, ...rest }: LiveConsultation) => rest;
        expect(snap.queue).toEqual([offeredB, c, d].map(entry));
        for (const q of snap.queue) expect(q).not.toHaveProperty("profile");
        for (const q of snap.queue) expect(Array.isArray(q.excludedVetIds)).toBe(true);
        const byId = [...snap.vets].sort((x, y) => x.vetId - y.vetId);
        expect(byId.map((v) => v.vetId)).toEqual([1, 2, 3, 4]);
        for (const v of byId) {
          expect(v).toEqual(await store.getVet(v.vetId));
          expect(Array.isArray(v.activeConsultationIds)).toBe(true);
        }
        expect(byId[0]).toMatchObject({ offerConsultationId: b.id, status: "available" });
        expect(byId[1]).toMatchObject({ status: "away", connections: 1 });
        expect(byId[2]).toMatchObject({ activeConsultationIds: [a.id] });
        expect(byId[3]).toMatchObject({ connections: 0 });
      });

      it("knownVets: every known vet, as the snapshot has them", async () => {
        expect(await store.knownVets()).toEqual([]);
        await onlineVet(2);
        await store.addVetConnection(1, "a", "n1", T0); // away
        await offer(await enqueue(), 2);
        const byId = (vets: VetPresence[]) => [...vets].sort((x, y) => x.vetId - y.vetId);
        const vets = byId(await store.knownVets());
        expect(vets.map((v) => v.vetId)).toEqual([1, 2]);
        expect(vets).toEqual(byId((await store.snapshot()).vets));
      });
    });

    describe("headSnapshot", () => {
      it("holds the QUEUE_HEAD_LIMIT requests waiting longest and as many urgent ones, by seq: none offered, none active", async () => {
        await onlineVet(1);
        await onlineVet(2);
        const offered = await enqueue({ priority: "emergency" });
        await offer(offered, 1);
        const early: LiveConsultation[] = [];
        for (let i = 0; i < QUEUE_HEAD_LIMIT; i++) early.push(await enqueue());
        const late = await enqueue();
        const lateProtected = await enqueue({ priority: "protected" });
        // Transferred (its vet left) is urgent too.
        const handed = await enqueue({ priority: "emergency" });
        await offer(handed, 2, T0, 3);
        await store.acceptOffer(handed.id, 2, T0 + 1);
        expect(await store.transfer(handed.id, T0 + 2, T0 + QUEUE_MS)).not.toBeNull();
        const lateEmergency = await enqueue({ priority: "emergency" });

        const head = await store.headSnapshot(1);
        expect(head.queue.map((q) => q.id)).toEqual([
          ...early.map((c) => c.id),
          lateProtected.id,
          handed.id,
          lateEmergency.id,
        ]);
        expect(head.truncated).toBe(true); // `late` waits behind it
        expect(head.queue.map((q) => q.id)).not.toContain(late.id);
        for (const q of head.queue) expect(q).not.toHaveProperty("profile");
        expect(head.queue.at(-2)).toMatchObject({ status: "queued", transferred: true, excludedVetIds: [2] });
        // The same entries and vets as the full snapshot.
        const full = await store.snapshot();
        const byId = new Map(full.queue.map((q) => [q.id, q]));
        for (const q of head.queue) expect(q).toEqual(byId.get(q.id));
        expect([...head.vets].sort((a, b) => a.vetId - b.vetId)).toEqual(
          [...full.vets].sort((a, b) => a.vetId - b.vetId),
        );

        // Offered or finished, an urgent one leaves the head; released, it is back.
        await onlineVet(3); // free while vets 1 and 2 hold offers
        await offer(lateEmergency, 2, T0 + 3, 3);
        await store.finish(handed.id, T0 + 4, null);
        expect((await store.headSnapshot(1)).queue.map((q) => q.id).slice(QUEUE_HEAD_LIMIT)).toEqual([
          lateProtected.id,
        ]);
        await store.releaseOffer(lateEmergency.id, 2);
        expect((await store.headSnapshot(1)).queue.map((q) => q.id).slice(QUEUE_HEAD_LIMIT)).toEqual([
          lateProtected.id,
          lateEmergency.id,
        ]);
        // Short queues: the head is every waiting request.
        for (const c of early) await store.finish(c.id, T0 + 5, null);
        const short = await store.headSnapshot(1);
        expect(short.queue.map((q) => q.id)).toEqual([late.id, lateProtected.id, lateEmergency.id]);
        expect(short.truncated).toBe(false);
      });
    });

    it("headSnapshot for vets who treat some species: the heads of those species and of requests with none; no vet free, nothing but what it names", async () => {
      const dogsOnly: VetSkills = { species: ["dog"], languages: ["en"], maxChats: null, version: 0 };
      await store.addVetConnection(1, "v1-a", "n1", T0, dogsOnly);
      await store.setVetStatus(1, "available", T0);
      for (let i = 0; i <= QUEUE_HEAD_LIMIT; i++) await enqueue({ species: "iguana" });
      const dog = await enqueue({ species: "dog" });
      const none = await enqueue({ species: null });
      await enqueue({ species: "cat" });
      const head = await store.headSnapshot(1);
      expect(head.queue.map((q) => q.id)).toEqual([dog.id, none.id]);
      expect(head.truncated).toBe(false); // more wait, but none of them for this vet
      const dogs: LiveConsultation[] = [dog];
      for (let i = 0; i < QUEUE_HEAD_LIMIT; i++) dogs.push(await enqueue({ species: "dog" }));
      const more = await store.headSnapshot(1);
      expect(more.queue.map((q) => q.id)).toEqual([
        dog.id,
        none.id,
        ...dogs.slice(1, QUEUE_HEAD_LIMIT).map((c) => c.id),
      ]);
      expect(more.truncated).toBe(true);
      await store.setVetStatus(1, "away", T0 + 1);
      const away = await store.headSnapshot(1, [dogs.at(-1)!.id]);
      expect(away.queue.map((q) => q.id)).toEqual([dogs.at(-1)!.id]);
      expect(away.vets.map((v) => v.vetId)).toEqual([1]);
    });

    it("headSnapshot(include): the named requests still waiting join the head wherever they are; offered, unknown or repeated ids add nothing", async () => {
      await onlineVet(1);
      for (let i = 0; i < QUEUE_HEAD_LIMIT; i++) await enqueue();
      const far = await enqueue();
      const farther = await enqueue();
      const offered = await enqueue({ priority: "emergency" });
      await offer(offered, 1);
      await onlineVet(2);
      const head = await store.headSnapshot(1, [farther.id, "nope", offered.id, far.id, far.id]);
      expect(head.queue).toHaveLength(QUEUE_HEAD_LIMIT + 2);
      expect(head.queue.slice(-2).map((q) => q.id)).toEqual([far.id, farther.id]);
      expect(head.queue.slice(-2)[0]).not.toHaveProperty("profile");
      const seqs = head.queue.map((q) => q.seq);
      expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
      // Named ones already in the head are not repeated.
      const first = head.queue[0].id;
      expect((await store.headSnapshot(1, [first])).queue.filter((q) => q.id === first)).toHaveLength(1);
    });

    it("headSnapshot: a restored urgent request is in the head however far back its seq", async () => {
      await onlineVet(1);
      for (let i = 0; i < QUEUE_HEAD_LIMIT; i++) await enqueue();
      const back: LiveConsultation = { ...newRequest({ priority: "protected" }), seq: 10_000 };
      expect(await store.restore(back)).toBe(true);
      const head = (await store.headSnapshot(1)).queue;
      expect(head).toHaveLength(QUEUE_HEAD_LIMIT + 1);
      expect(head.at(-1)).toMatchObject({ id: back.id, seq: 10_000, priority: "protected" });
    });

    describe("updateSids", () => {
      it("sets channel and room SIDs independently", async () => {
        const c = await enqueue();
        const r1 = await store.updateSids(c.id, { channelSid: "CH1" });
        expect(r1).toMatchObject({ channelSid: "CH1", roomSid: null });
        const r2 = await store.updateSids(c.id, { roomSid: "RM1" });
        expect(r2).toMatchObject({ channelSid: "CH1", roomSid: "RM1" });
        expect(await store.getConsultation(c.id)).toEqual(r2);
        expect(r2?.profile).toEqual(c.profile);
        expect(await store.updateSids(c.id, {})).toEqual(r2);
        expect(await store.updateSids("nope", { roomSid: "x" })).toBeNull();
      });
    });

    // ------------------------------------------------------------------ races

    describe("concurrency", () => {
      it("50 parallel claims (10 requests x 5 vets): one offer per vet and per request", async () => {
        const vets = [1, 2, 3, 4, 5];
        for (const v of vets) await onlineVet(v);
        const cs: LiveConsultation[] = [];
        for (let i = 0; i < 10; i++) cs.push(await enqueue());
        const results = await Promise.all(
          cs.flatMap((c) =>
            vets.map(async (v) => ({ c: c.id, v, r: await store.claimOffer(c.id, v, T0, T0 + OFFER_MS, rulesFor(1)) })),
          ),
        );
        const wins = results.filter((x) => x.r.ok);
        // Each vet can win once and there are more requests than vets: exactly 5 winners.
        expect(wins).toHaveLength(5);
        expect(new Set(wins.map((w) => w.v)).size).toBe(5);
        expect(new Set(wins.map((w) => w.c)).size).toBe(5);
        // The stored state agrees.
        const snap = await store.snapshot();
        const offered = snap.queue.filter((q) => q.status === "offered");
        expect(offered).toHaveLength(5);
        for (const v of snap.vets) {
          const held = offered.filter((q) => q.offer?.vetId === v.vetId);
          expect(held).toHaveLength(1);
          expect(v.offerConsultationId).toBe(held[0].id);
        }
      });
    });
  });
}
