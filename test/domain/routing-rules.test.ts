/**
 * PROTOCOL §4 skills, capacity per channel and priority, as the planner applies them.
 * Times are plain numbers: no clock runs, nothing sleeps.
 */
import { describe, expect, it } from "vitest";
import { chooseVet, planOffers } from "../../src/domain/planner.js";
import { priorityClassOf, priorityRank, queueComparator, routingRules } from "../../src/domain/routing-rules.js";
import type { QueueEntry } from "../../src/domain/routing-store.js";
import type { VetPresence, VetSkills } from "../../src/domain/types.js";
import { queuedRequest } from "../support/live-consultations.js";

const T0 = 1_000_000;
const RULES = routingRules({ vetMaxConsults: 1, languageWaitMs: 60_000, priorityAgingMs: 300_000 });

let seq = 0;
const request = (over: Partial<QueueEntry> = {}): QueueEntry => {
  ++seq;
  return queuedRequest({ id: `c${seq}`, appId: 1, userId: seq, createdAt: T0 }, { petId: 1, seq, ...over });
};

/** An available vet; a smaller `idleSince` has been idle longer. */
const vet = (vetId: number, skills: Partial<VetSkills> = {}, over: Partial<VetPresence> = {}): VetPresence => ({
  vetId,
  status: "available",
  connections: 1,
  idleSince: vetId,
  offerConsultationId: null,
  activeConsultationIds: [],
  wrapupUntil: null,
  wrapupConsultationId: null,
  skills: { species: [], languages: ["en"], maxChats: null, version: 0, ...skills },
  ...over,
});

const plan = (queue: QueueEntry[], vets: VetPresence[], now = T0, rules = RULES) =>
  planOffers({ queue, vets }, rules, now).map((p) => [p.consultationId, p.vetId]);

describe("species (strict)", () => {
  it("a cat goes past a longer-idle dogs-only vet to one who treats cats", () => {
    const cat = request({ species: "cat" });
    expect(plan([cat], [vet(1, { species: ["dog"] }), vet(2, { species: ["cat", "dog"] })])).toEqual([[cat.id, 2]]);
  });

  it("no vet for the species: the request waits and does not hold up the ones behind it", () => {
    const iguana = request({ species: "iguana" });
    const dog = request({ species: "dog" });
    expect(plan([iguana, dog], [vet(1, { species: ["dog", "cat"] })])).toEqual([[dog.id, 1]]);
  });

  it("a vet with no species list treats every species; a pet with no species goes to anyone", () => {
    expect(plan([request({ species: "iguana" })], [vet(1)])).toHaveLength(1);
    expect(plan([request({ species: null })], [vet(1, { species: ["dog"] })])).toHaveLength(1);
  });
});

describe("language (preferred, then anyone after LANGUAGE_WAIT_MS)", () => {
  it("es finds the Spanish speaker although an English speaker has been idle longer", () => {
    const es = request({ language: "es" });
    expect(plan([es], [vet(1, { languages: ["en"] }), vet(2, { languages: ["en", "es"] })])).toEqual([[es.id, 2]]);
  });

  it("fr with nobody speaking it waits, then falls back to any vet after the wait", () => {
    const fr = request({ language: "fr", createdAt: T0 });
    const vets = [vet(1, { languages: ["en"] })];
    expect(plan([fr], vets, T0 + 59_999)).toEqual([]);
    expect(plan([fr], vets, T0 + 60_000)).toEqual([[fr.id, 1]]);
  });

  it("after the wait a speaker is still preferred when one is free", () => {
    const fr = request({ language: "fr", createdAt: T0 });
    expect(plan([fr], [vet(1), vet(2, { languages: ["fr"] })], T0 + 120_000)).toEqual([[fr.id, 2]]);
  });

  it("while one request waits for its language, the next goes to the free vet", () => {
    const fr = request({ language: "fr" });
    const en = request({ language: "en" });
    expect(plan([fr, en], [vet(1)])).toEqual([[en.id, 1]]);
  });
});

describe("capacity per channel", () => {
  it("a vet with max_chats 2 holding one chat can take another chat", () => {
    const c = request();
    expect(plan([c], [vet(1, { maxChats: 2 }, { activeConsultationIds: ["x"] })])).toEqual([[c.id, 1]]);
    expect(plan([c], [vet(1, { maxChats: 2 }, { activeConsultationIds: ["x", "y"] })])).toEqual([]);
  });

  it("max_chats unset: VET_MAX_CONSULTS applies", () => {
    const c = request();
    const busy = vet(1, {}, { activeConsultationIds: ["x"] });
    expect(plan([c], [busy])).toEqual([]);
    expect(plan([c], [busy], T0, { ...RULES, maxConsults: 2 })).toEqual([[c.id, 1]]);
  });

  it("a video waits for a vet holding nothing; a vet in a video takes nothing else", () => {
    const video = request({ type: "video" });
    const chat = request({ type: "chat" });
    const holdingChat = vet(1, { maxChats: 3 }, { activeConsultationIds: ["x"] });
    expect(plan([video, chat], [holdingChat])).toEqual([[chat.id, 1]]);
    expect(plan([video], [holdingChat, vet(2, { maxChats: 3 })])).toEqual([[video.id, 2]]);
    expect(plan([chat], [vet(3, { maxChats: 3 }, { activeConsultationIds: ["v"], holdsVideo: true })])).toEqual([]);
  });
});

describe("priority classes and aging", () => {
  it("transferred, then emergency, then protected, then everyone else; arrival within a class", () => {
    const normal = request({ priority: "normal" });
    const prot = request({ priority: "protected" });
    const emergency = request({ priority: "emergency" });
    const prot2 = request({ priority: "protected" });
    const transferred = request({ transferred: true });
    const order = [normal, prot, emergency, prot2, transferred].sort(queueComparator(T0, RULES.priorityAgingMs));
    expect(order.map((c) => c.id)).toEqual([transferred, emergency, prot, prot2, normal].map((c) => c.id));
    expect(plan([normal, prot, emergency], [vet(1)])).toEqual([[emergency.id, 1]]);
    expect(plan([normal, prot], [vet(1), vet(2)])).toEqual([
      [prot.id, 1],
      [normal.id, 2],
    ]);
  });

  it("each PRIORITY_AGING_MS waited lifts a request one class, up to emergency, never above transferred", () => {
    const c = { priority: "normal" as const, createdAt: T0 };
    expect(priorityRank(c, T0 + 299_999, 300_000)).toBe(3);
    expect(priorityRank(c, T0 + 300_000, 300_000)).toBe(2);
    expect(priorityRank(c, T0 + 600_000, 300_000)).toBe(1);
    expect(priorityRank(c, T0 + 6_000_000, 300_000)).toBe(1);
    expect(priorityRank({ ...c, transferred: true }, T0, 300_000)).toBe(0);
    expect(priorityRank(c, T0 + 6_000_000, 0)).toBe(3);
  });

  it("an ordinary request that waited one period goes before a protected one that came later", () => {
    const old = request({ priority: "normal", createdAt: T0 });
    const prot = request({ priority: "protected", createdAt: T0 + 200_000 });
    expect(plan([old, prot], [vet(1)], T0 + 299_999)).toEqual([[prot.id, 1]]);
    expect(plan([old, prot], [vet(1)], T0 + 300_000)).toEqual([[old.id, 1]]);
  });

  it("the class comes from who asks", () => {
    expect(priorityClassOf(true, true)).toBe("emergency");
    expect(priorityClassOf(false, true)).toBe("protected");
    expect(priorityClassOf(false, false)).toBe("normal");
  });
});

describe("the requested vet", () => {
  it("goes first when they can take the request, whatever their language", () => {
    const c = { ...request({ language: "fr", requestedVetId: 2 }) };
    expect(chooseVet(c, [vet(1, { languages: ["fr"] }), vet(2)], T0, RULES)).toEqual({ vetId: 2, requested: true });
  });

  it("is passed over when they do not treat the species or hold a chat for a video", () => {
    const cat = request({ species: "cat", requestedVetId: 2 });
    expect(chooseVet(cat, [vet(1), vet(2, { species: ["dog"] })], T0, RULES)).toEqual({ vetId: 1, requested: false });
    const video = request({ type: "video", requestedVetId: 2 });
    const busy = vet(2, { maxChats: 2 }, { activeConsultationIds: ["x"] });
    expect(chooseVet(video, [vet(1), busy], T0, RULES)).toEqual({ vetId: 1, requested: false });
  });
});
