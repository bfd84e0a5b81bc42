/**
 * Behaviour every {@link Ledger} must have. Runs against the PostgreSQL ledger on PostgreSQL
 * and on PGlite (`ledger.test.ts`) and against the in-memory ledger of the engine
 * unit tests (`test/support/memory-ledger.test.ts`), so the fake keeps every rule of the
 * real one.
 */
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Ledger } from "../../src/domain/ports.js";
import type { LiveConsultation } from "../../src/domain/types.js";
import { queuedRequest } from "../support/live-consultations.js";

/** What the contract reads besides the port: the stored history and offers. */
export interface InspectableLedger extends Ledger {
  history(id: string): Promise<Array<{ from: string | null; to: string; at: Date; detail: unknown }>>;
  offersOf(id: string): Promise<Array<{ vetId: number; outcome: string | null }>>;
}

export interface LedgerFixture {
  ledger: InspectableLedger;
  /** Two apps; an owner of the first with a pet; two vets. All exist where the ledger needs them. */
  appId: number;
  otherAppId: number;
  userId: number;
  petId: number;
  vets: [VetName, VetName];
  cleanup(): Promise<void>;
}

export interface VetName {
  id: number;
  firstName: string;
  lastName: string;
}

const T0 = Date.UTC(2026, 0, 1);
const sid = (prefix: "CH" | "RM") => prefix + randomUUID().replaceAll("-", "");

export function ledgerContract(name: string, make: () => Promise<LedgerFixture>): void {
  describe(`Ledger contract: ${name}`, () => {
    let f: LedgerFixture;
    let ledger: InspectableLedger;
    let vet: number;
    let otherVet: number;

    beforeAll(async () => {
      f = await make();
      ledger = f.ledger;
      vet = f.vets[0].id;
      otherVet = f.vets[1].id;
    });
    afterAll(async () => {
      await f?.cleanup();
    });

    const live = (over: Partial<LiveConsultation> = {}): LiveConsultation =>
      queuedRequest({ id: randomUUID(), appId: f.appId, userId: f.userId, createdAt: T0 }, { petId: f.petId, ...over });

    async function created(over: Partial<LiveConsultation> = {}, source: "socket" | "rest" = "socket") {
      const c = live(over);
      await ledger.create(c, source);
      return c;
    }

    const statuses = async (id: string) => (await ledger.history(id)).map((h) => [h.from, h.to]);

    it("create stores the consultation as given, with its first event", async () => {
      const c = await created({ type: "video" }, "rest");
      expect(await ledger.get(c.id)).toEqual({
        id: c.id,
        appId: f.appId,
        userId: f.userId,
        petId: f.petId,
        type: "video",
        status: "queued",
        vetId: null,
        channelSid: null,
        roomSid: null,
        createdAt: new Date(T0),
        endedAt: null,
      });
      expect(await ledger.history(c.id)).toEqual([
        { from: null, to: "queued", at: new Date(T0), detail: { source: "rest" } },
      ]);
    });

    it("create stores the routing attributes; openConsultations returns them (absent = null, normal)", async () => {
      const base = T0 + 7_000_000;
      const urgent = await created({ createdAt: base, species: "dog", language: "es", priority: "emergency" });
      const prot = await created({ createdAt: base + 1, species: null, language: "fr", priority: "protected" });
      const plain = await created({ createdAt: base + 2 });
      const open = (await ledger.openConsultations()).filter((o) => [urgent.id, prot.id, plain.id].includes(o.id));
      expect(open.map((o) => [o.id, o.species, o.language, o.priority])).toEqual([
        [urgent.id, "dog", "es", "emergency"],
        [prot.id, null, "fr", "protected"],
        [plain.id, null, null, "normal"],
      ]);
      for (const c of [urgent, prot, plain]) await ledger.transition(c.id, "cancelled", base + 10);
    });

    it("create stores region, care and the advice fallback; openConsultations returns them (absent = null, treatment, false)", async () => {
      const base = T0 + 7_100_000;
      const treat = await created({ createdAt: base, region: "US-CA", care: "treatment", adviceFallback: true });
      const advice = await created({ createdAt: base + 1, region: "GB", care: "advice" });
      const plain = await created({ createdAt: base + 2 });
      const open = (await ledger.openConsultations()).filter((o) => [treat.id, advice.id, plain.id].includes(o.id));
      expect(open.map((o) => [o.id, o.region, o.care, o.adviceFallback])).toEqual([
        [treat.id, "US-CA", "treatment", true],
        [advice.id, "GB", "advice", false],
        [plain.id, null, "treatment", false],
      ]);
      for (const c of [treat, advice, plain]) await ledger.transition(c.id, "cancelled", base + 10);
    });

    it("changeCare: only while it waits, with one event per real change; a repeat says it holds", async () => {
      const base = T0 + 7_200_000;
      const c = await created({ createdAt: base, region: "US-TX", adviceFallback: true });
      const detail = { care: "advice", reason: "no_licensed_vet" };
      expect(await ledger.changeCare(c.id, "advice", base + 120_000, detail)).toBe(true);
      // A retry after a half-done attempt goes on; no second event.
      expect(await ledger.changeCare(c.id, "advice", base + 121_000, detail)).toBe(true);
      const events = (await ledger.history(c.id)).filter(
        (e) => (e.detail as { reason?: string } | null)?.reason === "no_licensed_vet",
      );
      expect(events).toEqual([{ from: "queued", to: "queued", at: new Date(base + 120_000), detail }]);
      expect((await ledger.openConsultations()).find((o) => o.id === c.id)).toMatchObject({
        care: "advice",
        status: "queued",
      });
      // Offered still waits; taken does not.
      const offered = await created({ createdAt: base + 1 });
      await ledger.offerMade(offered.id, vet, base + 2, base + 30_000, false);
      expect(await ledger.changeCare(offered.id, "advice", base + 3, detail)).toBe(true);
      await ledger.transition(offered.id, "active", base + 4, { vetId: vet });
      expect(await ledger.changeCare(offered.id, "treatment", base + 5, detail)).toBe(false);
      expect((await ledger.openConsultations()).find((o) => o.id === offered.id)).toMatchObject({
        care: "advice",
        status: "active",
      });
      await ledger.transition(c.id, "cancelled", base + 200_000);
      expect(await ledger.changeCare(c.id, "treatment", base + 200_001, detail)).toBe(false);
      expect(await ledger.changeCare(randomUUID(), "advice", base, detail)).toBe(false);
      await ledger.transition(offered.id, "ended", base + 10);
    });

    it("create of a directly assigned consultation keeps its vet and SIDs", async () => {
      const channelSid = sid("CH");
      const c = await created({ status: "active", vetId: vet, acceptedAt: T0, channelSid }, "rest");
      expect(await ledger.get(c.id)).toMatchObject({ status: "active", vetId: vet, channelSid, roomSid: null });
      expect((await ledger.history(c.id))[0]).toMatchObject({ to: "active", detail: { source: "rest", vet_id: vet } });
      expect((await ledger.findByChannel(f.appId, channelSid))?.id).toBe(c.id);
    });

    it("create of an id that exists already rejects and changes nothing", async () => {
      const c = await created();
      await expect(ledger.create({ ...c, type: "video" }, "rest")).rejects.toThrow();
      expect((await ledger.get(c.id))?.type).toBe("chat");
      expect(await ledger.history(c.id)).toHaveLength(1);
    });

    it("records transitions, offers, SIDs and notes in order", async () => {
      const c = await created();
      const channelSid = sid("CH");
      await ledger.offerMade(c.id, vet, T0 + 10, T0 + 30_010, false);
      await ledger.offerEnded(c.id, vet, "accepted", T0 + 20, false);
      await ledger.transition(c.id, "active", T0 + 20, { vetId: vet });
      await ledger.setSids(c.id, { channelSid });
      await ledger.note(c.id, T0 + 25, { call_status: "accepted" });
      await ledger.transition(c.id, "ended", T0 + 30, { endedBy: "vet" });

      expect(await ledger.get(c.id)).toMatchObject({
        status: "ended",
        vetId: vet,
        channelSid,
        endedAt: new Date(T0 + 30),
      });
      expect(await ledger.history(c.id)).toEqual([
        { from: null, to: "queued", at: new Date(T0), detail: { source: "socket" } },
        { from: "queued", to: "offered", at: new Date(T0 + 10), detail: { vet_id: vet, requested: false } },
        { from: "offered", to: "active", at: new Date(T0 + 20), detail: null },
        { from: "active", to: "active", at: new Date(T0 + 25), detail: { call_status: "accepted" } },
        { from: "active", to: "ended", at: new Date(T0 + 30), detail: null },
      ]);
      expect(await ledger.offersOf(c.id)).toEqual([{ vetId: vet, outcome: "accepted" }]);
    });

    it("a referral (PROTOCOL §10): offered and accepted keep it active and move its vet once; the first vet leaves once", async () => {
      const c = await created();
      await ledger.transition(c.id, "active", T0 + 2, { vetId: vet });
      await ledger.referralOffered(c.id, otherVet, T0 + 3, T0 + 30_003);
      expect(await ledger.get(c.id)).toMatchObject({ status: "active", vetId: vet });
      const detail = { referral: "accepted", vet_id: otherVet, from_vet_id: vet, mode: "warm" };
      const offer = { offeredAt: T0 + 3, expiresAt: T0 + 30_003 };
      await ledger.referralAccepted(c.id, otherVet, vet, false, T0 + 4, offer, detail);
      await ledger.referralAccepted(c.id, otherVet, vet, false, T0 + 4, offer, detail);
      expect(await ledger.get(c.id)).toMatchObject({ status: "active", vetId: otherVet });
      expect(await ledger.offersOf(c.id)).toEqual([{ vetId: otherVet, outcome: "accepted" }]);
      await ledger.vetLeft(c.id, vet, T0 + 5, { referral: "left", vet_id: vet });
      await ledger.vetLeft(c.id, vet, T0 + 6, { referral: "left", vet_id: vet });
      expect((await ledger.history(c.id)).slice(2)).toEqual([
        { from: "active", to: "active", at: new Date(T0 + 3), detail: { referral: "offered", vet_id: otherVet } },
        { from: "active", to: "active", at: new Date(T0 + 4), detail },
        { from: "active", to: "active", at: new Date(T0 + 5), detail: { referral: "left", vet_id: vet } },
      ]);
      // Cold: the first vet's spell closes with the accept, so leaving after it writes nothing.
      const cold = await created();
      await ledger.transition(cold.id, "active", T0 + 2, { vetId: vet });
      await ledger.referralAccepted(cold.id, otherVet, vet, true, T0 + 4, offer, { ...detail, mode: "cold" });
      await ledger.vetLeft(cold.id, vet, T0 + 5, { referral: "left", vet_id: vet });
      expect((await ledger.history(cold.id)).map((h) => h.detail)).toEqual([
        { source: "socket" },
        null,
        { ...detail, mode: "cold" },
      ]);
      // Not active: nothing happens.
      const queued = await created();
      await ledger.referralAccepted(queued.id, otherVet, vet, true, T0 + 4, offer, detail);
      expect(await ledger.get(queued.id)).toMatchObject({ status: "queued", vetId: null });
    });

    it("a transition to active can resolve the vet's offer in the same write", async () => {
      const c = await created();
      await ledger.offerMade(c.id, vet, T0 + 1, T0 + 30_001, false);
      await ledger.transition(c.id, "active", T0 + 2, {
        vetId: vet,
        resolvedOffer: { vetId: vet, outcome: "accepted" },
      });
      expect(await ledger.offersOf(c.id)).toEqual([{ vetId: vet, outcome: "accepted" }]);
      expect(await ledger.get(c.id)).toMatchObject({ status: "active", vetId: vet, endedAt: null });
    });

    it("an accept that knows its offer gives one accepted offer row, in whichever order it and offerMade land", async () => {
      const accept = { vetId: vet, outcome: "accepted" as const, offeredAt: T0 + 1, expiresAt: T0 + 30_001 };
      const early = await created();
      await ledger.transition(early.id, "active", T0 + 2, { vetId: vet, resolvedOffer: accept });
      await ledger.offerMade(early.id, vet, T0 + 1, T0 + 30_001, false);
      expect(await ledger.offersOf(early.id)).toEqual([{ vetId: vet, outcome: "accepted" }]);
      expect(await ledger.get(early.id)).toMatchObject({ status: "active", vetId: vet });

      const late = await created();
      await ledger.offerMade(late.id, vet, T0 + 1, T0 + 30_001, false);
      await ledger.transition(late.id, "active", T0 + 2, { vetId: vet, resolvedOffer: accept });
      expect(await ledger.offersOf(late.id)).toEqual([{ vetId: vet, outcome: "accepted" }]);
      expect(await ledger.get(late.id)).toMatchObject({ status: "active", vetId: vet });
    });

    it("an offer's outcome that knows its offer lands resolved in whichever order it and offerMade land", async () => {
      const times = { offeredAt: T0 + 1, expiresAt: T0 + 30_001 };
      for (const [outcome, requeued] of [
        ["declined", true],
        ["timeout", true],
        ["disconnected", true],
        ["cancelled", false],
        ["expired", false],
      ] as const) {
        const early = await created();
        await ledger.offerEnded(early.id, vet, outcome, T0 + 2, requeued, times);
        await ledger.offerMade(early.id, vet, T0 + 1, T0 + 30_001, false);
        expect(await ledger.offersOf(early.id)).toEqual([{ vetId: vet, outcome }]);
        // A late offerMade (older) does not move a requeued one back to offered.
        expect((await ledger.get(early.id))?.status).toBe(requeued ? "queued" : "offered");

        const late = await created();
        await ledger.offerMade(late.id, vet, T0 + 1, T0 + 30_001, false);
        await ledger.offerEnded(late.id, vet, outcome, T0 + 2, requeued, times);
        expect(await ledger.offersOf(late.id)).toEqual([{ vetId: vet, outcome }]);
        expect((await ledger.get(late.id))?.status).toBe(requeued ? "queued" : "offered");
      }
    });

    it("an offer ended with requeue moves the status back to queued; without, only the offer changes", async () => {
      const c = await created();
      await ledger.offerMade(c.id, vet, T0 + 1, T0 + 2, false);
      await ledger.offerEnded(c.id, vet, "declined", T0 + 2, true);
      expect((await ledger.get(c.id))?.status).toBe("queued");
      expect((await ledger.history(c.id)).at(-1)).toMatchObject({
        from: "offered",
        to: "queued",
        detail: { offer_outcome: "declined", vet_id: vet },
      });
      await ledger.offerMade(c.id, otherVet, T0 + 3, T0 + 4, false);
      await ledger.transition(c.id, "cancelled", T0 + 4, { endedBy: "user" });
      await ledger.offerEnded(c.id, otherVet, "cancelled", T0 + 4, false);
      expect(await ledger.offersOf(c.id)).toEqual([
        { vetId: vet, outcome: "declined" },
        { vetId: otherVet, outcome: "cancelled" },
      ]);
      expect(await statuses(c.id)).toEqual([
        [null, "queued"],
        ["queued", "offered"],
        ["offered", "queued"],
        ["queued", "offered"],
        ["offered", "cancelled"],
      ]);
    });

    it("resolves the newest open offer of a vet when the same vet was offered twice", async () => {
      const c = await created();
      await ledger.offerMade(c.id, vet, T0 + 1, T0 + 2, true);
      await ledger.offerMade(c.id, vet, T0 + 3, T0 + 4, true); // the first was never resolved
      await ledger.offerEnded(c.id, vet, "declined", T0 + 4, true);
      expect(await ledger.offersOf(c.id)).toEqual([
        { vetId: vet, outcome: null },
        { vetId: vet, outcome: "declined" },
      ]);
      await ledger.offerEnded(c.id, vet, "timeout", T0 + 5, false);
      expect(await ledger.offersOf(c.id)).toEqual([
        { vetId: vet, outcome: "timeout" },
        { vetId: vet, outcome: "declined" },
      ]);
      await ledger.offerEnded(c.id, vet, "cancelled", T0 + 6, false); // none open: nothing changes
      expect((await ledger.offersOf(c.id)).map((o) => o.outcome)).toEqual(["timeout", "declined"]);
    });

    it("a status only moves forward in time: a late write is kept in history but not applied", async () => {
      const c = await created();
      await ledger.transition(c.id, "active", T0 + 50, { vetId: vet });
      await ledger.transition(c.id, "offered", T0 + 40); // arrived late from another node
      expect((await ledger.get(c.id))?.status).toBe("active");
      await ledger.transition(c.id, "queued", T0 + 50); // same time: applies
      expect((await ledger.get(c.id))?.status).toBe("queued");
      await ledger.offerMade(c.id, otherVet, T0 + 45, T0 + 60, false); // late offer: the row is still written
      expect((await ledger.get(c.id))?.status).toBe("queued");
      expect(await ledger.offersOf(c.id)).toEqual([{ vetId: otherVet, outcome: null }]);
      expect((await ledger.history(c.id)).map((h) => h.to)).toEqual([
        "queued",
        "offered",
        "offered",
        "active",
        "queued",
      ]);
    });

    it("a terminal status applies even when older, and then sticks", async () => {
      const c = await created();
      await ledger.transition(c.id, "active", T0 + 50, { vetId: vet });
      await ledger.transition(c.id, "ended", T0 + 40, { endedBy: "user" }); // older, but terminal
      expect(await ledger.get(c.id)).toMatchObject({ status: "ended", endedAt: new Date(T0 + 40) });
      await ledger.transition(c.id, "queued", T0 + 70); // a stray write after the end
      await ledger.transition(c.id, "expired", T0 + 80); // another terminal one
      await ledger.offerEnded(c.id, vet, "timeout", T0 + 90, true);
      expect(await ledger.get(c.id)).toMatchObject({ status: "ended", endedAt: new Date(T0 + 40) });
      expect((await ledger.history(c.id)).map((h) => h.to)).toEqual([
        "queued",
        "ended",
        "active",
        "queued",
        "expired",
        "queued",
      ]);
    });

    it("patch fields always apply, even with a status that does not; absent fields keep their value", async () => {
      const c = await created();
      const channelSid = sid("CH");
      const roomSid = sid("RM");
      await ledger.transition(c.id, "ended", T0 + 60, { endedBy: "user" });
      await ledger.transition(c.id, "active", T0 + 50, { vetId: vet, channelSid }); // an accept written after the end
      expect(await ledger.get(c.id)).toMatchObject({ status: "ended", vetId: vet, channelSid, roomSid: null });
      await ledger.transition(c.id, "active", T0 + 70, { roomSid });
      expect(await ledger.get(c.id)).toMatchObject({ status: "ended", vetId: vet, channelSid, roomSid });
      expect((await ledger.findByRoom(f.appId, roomSid))?.id).toBe(c.id);
    });

    it("setSids sets only the SIDs given and changes no status", async () => {
      const c = await created();
      const channelSid = sid("CH");
      const roomSid = sid("RM");
      await ledger.setSids(c.id, { channelSid });
      await ledger.setSids(c.id, { roomSid });
      await ledger.setSids(c.id, {});
      expect(await ledger.get(c.id)).toMatchObject({ status: "queued", channelSid, roomSid });
      expect(await ledger.history(c.id)).toHaveLength(1);
    });

    it("finds by channel and room within one app only", async () => {
      const c = await created();
      const channelSid = sid("CH");
      const roomSid = sid("RM");
      await ledger.setSids(c.id, { channelSid, roomSid });
      expect((await ledger.findByChannel(f.appId, channelSid))?.id).toBe(c.id);
      expect((await ledger.findByRoom(f.appId, roomSid))?.id).toBe(c.id);
      expect(await ledger.findByChannel(f.otherAppId, channelSid)).toBeNull();
      expect(await ledger.findByRoom(f.otherAppId, roomSid)).toBeNull();
      expect(await ledger.findByChannel(f.appId, sid("CH"))).toBeNull();
      expect(await ledger.findByRoom(f.appId, channelSid)).toBeNull(); // a channel SID is not a room SID
    });

    it("unknown consultations: reads find nothing, ledger writes change nothing", async () => {
      const id = randomUUID();
      expect(await ledger.get(id)).toBeNull();
      expect(await ledger.get("not-a-uuid")).toBeNull();
      await ledger.transition(id, "ended", T0, { endedBy: "system" });
      await ledger.setSids(id, { channelSid: sid("CH") });
      await ledger.note(id, T0, { call_status: "accepted" });
      await ledger.offerEnded(id, vet, "timeout", T0, true);
      expect(await ledger.get(id)).toBeNull();
      expect(await ledger.history(id)).toEqual([]);
      await expect(ledger.offerMade(id, vet, T0, T0 + 1, false)).rejects.toThrow();
      expect(await ledger.offersOf(id)).toEqual([]);
      await expect(ledger.saveFeedback(id, vet, "r", "x", T0)).rejects.toThrow();
      expect(await ledger.findFeedback(id)).toBeNull();
    });

    it("openConsultations: every open one, oldest first, with excluded vets, SIDs and times", async () => {
      const base = T0 + 5_000_000;
      const queued = await created({ createdAt: base + 2, requestedVetId: vet });
      const offered = await created({ createdAt: base + 1 });
      await ledger.offerMade(offered.id, vet, base + 10, base + 30_010, false);
      await ledger.offerEnded(offered.id, vet, "declined", base + 20, true);
      await ledger.offerMade(offered.id, otherVet, base + 30, base + 30_030, false);
      const active = await created({ createdAt: base + 3 });
      const channelSid = sid("CH");
      await ledger.offerMade(active.id, otherVet, base + 40, base + 30_040, false);
      await ledger.transition(active.id, "active", base + 50, {
        vetId: otherVet,
        channelSid,
        resolvedOffer: { vetId: otherVet, outcome: "accepted" },
      });
      const ended = await created({ createdAt: base + 4 });
      await ledger.transition(ended.id, "cancelled", base + 60);

      const open = (await ledger.openConsultations()).filter((o) =>
        [queued.id, offered.id, active.id, ended.id].includes(o.id),
      );
      expect(open.map((o) => o.id)).toEqual([offered.id, queued.id, active.id]);
      expect(open[0]).toMatchObject({ status: "offered", excludedVetIds: [vet], createdAt: base + 1, vetId: null });
      expect(open[1]).toEqual({
        id: queued.id,
        appId: f.appId,
        userId: f.userId,
        petId: f.petId,
        type: "chat",
        status: "queued",
        requestedVetId: vet,
        vetId: null,
        channelSid: null,
        roomSid: null,
        createdAt: base + 2,
        acceptedAt: null,
        excludedVetIds: [],
        species: null,
        language: null,
        priority: "normal",
        transferredAt: null,
        region: null,
        care: "treatment",
        adviceFallback: false,
      });
      expect(open[2]).toMatchObject({
        status: "active",
        vetId: otherVet,
        channelSid,
        acceptedAt: base + 50,
        excludedVetIds: [],
        transferredAt: null,
      });
    });

    it("openConsultations: a consultation handed back by its vet (vet_left) says when, and excludes that vet", async () => {
      const base = T0 + 5_500_000;
      const c = await created({ createdAt: base });
      await ledger.offerMade(c.id, vet, base + 10, base + 30_010, false);
      await ledger.transition(c.id, "active", base + 20, {
        vetId: vet,
        resolvedOffer: { vetId: vet, outcome: "accepted" },
      });
      await ledger.transition(
        c.id,
        "queued",
        base + 90_000,
        {},
        { reason: "vet_left", from_vet_id: vet, cause: "vet_left" },
      );
      const [open] = (await ledger.openConsultations()).filter((o) => o.id === c.id);
      expect(open).toMatchObject({ status: "queued", transferredAt: base + 90_000, excludedVetIds: [vet] });
    });

    it("recentWrapups: ended with a vet, no feedback yet, ended after since", async () => {
      const base = T0 + 6_000_000;
      const make = async (endAt: number) => {
        const c = await created({ status: "active", vetId: vet, acceptedAt: base, createdAt: base });
        await ledger.transition(c.id, "ended", endAt, { endedBy: "vet" });
        return c;
      };
      const old = await make(base + 10);
      const fresh = await make(base + 30);
      const withFeedback = await make(base + 40);
      await ledger.saveFeedback(withFeedback.id, vet, "ok", "fine", base + 50);
      const cancelled = await created({ createdAt: base });
      await ledger.transition(cancelled.id, "cancelled", base + 35);
      const ids = [old.id, fresh.id, withFeedback.id, cancelled.id];
      const wrapups = (await ledger.recentWrapups(base + 20)).filter((w) => ids.includes(w.consultationId));
      expect(wrapups).toEqual([{ vetId: vet, consultationId: fresh.id, endedAt: base + 30 }]);
    });

    it("feedback: one per consultation, a later one replaces it, joined with the vet's name", async () => {
      const c = await created({ type: "video" }, "rest");
      expect(await ledger.findFeedback(c.id)).toBeNull();
      await ledger.saveFeedback(c.id, vet, "first", "r1", T0 + 1);
      await ledger.saveFeedback(c.id, otherVet, "second", "r2", T0 + 2);
      expect(await ledger.findFeedback(c.id)).toEqual({
        consultationId: c.id,
        type: "video",
        vetFirstName: f.vets[1].firstName,
        vetLastName: f.vets[1].lastName,
        recommendation: "second",
        reason: "r2",
        outcome: null,
        updatedAt: new Date(T0 + 2),
      });
      // With an outcome (PROTOCOL §10); a later one replaces it, outcome included.
      await ledger.saveFeedback(c.id, vet, "third", "r3", T0 + 3, "clinic_visit");
      expect(await ledger.findFeedback(c.id)).toMatchObject({ recommendation: "third", outcome: "clinic_visit" });
      await ledger.saveFeedback(c.id, vet, "fourth", "r4", T0 + 4, "follow_up");
      expect(await ledger.findFeedback(c.id)).toMatchObject({ recommendation: "fourth", outcome: "follow_up" });
      // Feedback is not a status change.
      expect(await ledger.get(c.id)).toMatchObject({ status: "queued" });
    });
  });
}
