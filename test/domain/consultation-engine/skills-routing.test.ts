/**
 * PROTOCOL §4 skills, capacity per channel and priority through the engine: intake,
 * routing pass, accept and queue positions. In-memory store, manual clock: no sleeps.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { MemoryRoutingStore } from "../../../src/routing-store/memory/store.js";
import { fakeSkills, fakeSpecies, makeEngine } from "../../support/engine-fakes.js";
import { engineHelpers } from "../engine-helpers.js";

describe("routing with skills and priority (engine)", () => {
  let t: ReturnType<typeof makeEngine>;
  let store: MemoryRoutingStore;
  const { online, offersTo } = engineHelpers(() => t);
  const PET_DOG = 11;
  const PET_CAT = 12;

  beforeEach(() => {
    store = new MemoryRoutingStore();
    t = makeEngine(store, { routing: { languageWaitMs: 60_000, priorityAgingMs: 300_000 } });
    fakeSpecies.set(PET_DOG, "Dog");
    fakeSpecies.set(PET_CAT, "cat");
  });
  afterEach(() => {
    fakeSpecies.clear();
    fakeSkills.clear();
  });

  const ask = (
    userId: number,
    over: { petId?: number; type?: "chat" | "video"; language?: string; emergency?: boolean } = {},
  ) =>
    t.engine.request({
      appId: 1,
      userId,
      petId: over.petId ?? 1,
      type: over.type ?? "chat",
      language: over.language,
      emergency: over.emergency,
    });

  it("emergency is refused with 422 unless the owner has a subscribed protection plan", async () => {
    await expect(ask(5, { emergency: true })).rejects.toMatchObject({
      status: 422,
      messages: ["The emergency field is not allowed."],
    });
    const ok = await ask(95, { emergency: true });
    expect(ok.status).toBe("queued");
    expect(await store.getConsultation(ok.consultation_id)).toMatchObject({ priority: "emergency" });
    const prot = await ask(96);
    expect(await store.getConsultation(prot.consultation_id)).toMatchObject({ priority: "protected" });
    const normal = await ask(6, { emergency: false });
    expect(await store.getConsultation(normal.consultation_id)).toMatchObject({ priority: "normal" });
  });

  it("tells the vet in the offer, the accept and consult:state on resume that it is an emergency and which language the owner asked for", async () => {
    fakeSkills.set(1, { languages: ["de"] });
    await online(1);
    const urgent = await ask(93, { emergency: true, language: "de" });
    expect(offersTo(1)[0]).toMatchObject({ emergency: true, language: "de" });
    expect(await t.engine.accept(1, urgent.consultation_id)).toMatchObject({
      consultation_id: urgent.consultation_id,
      emergency: true,
      language: "de",
    });
    expect((await t.engine.vetResume(1)).states).toEqual([
      expect.objectContaining({
        consultation_id: urgent.consultation_id,
        status: "active",
        emergency: true,
        language: "de",
      }),
    ]);
    await online(2);
    const plain = await ask(40);
    expect(offersTo(2)[0]).not.toHaveProperty("emergency");
    expect(offersTo(2)[0]).not.toHaveProperty("language");
    // Only when set, as in the offer.
    const accepted = await t.engine.accept(2, plain.consultation_id);
    const [state] = (await t.engine.vetResume(2)).states;
    for (const p of [accepted, state]) {
      expect(p).toMatchObject({ consultation_id: plain.consultation_id });
      expect(p).not.toHaveProperty("emergency");
      expect(p).not.toHaveProperty("language");
    }
  });

  it("takes the pet's species in lower case and the language onto the request", async () => {
    const r = await ask(7, { petId: PET_DOG, language: "es" });
    expect(await store.getConsultation(r.consultation_id)).toMatchObject({ species: "dog", language: "es" });
  });

  it("a cat goes past a longer-idle dogs-only vet", async () => {
    fakeSkills.set(1, { species: ["dog"] });
    fakeSkills.set(2, { species: ["cat"] });
    await online(1);
    await online(2);
    const r = await ask(8, { petId: PET_CAT });
    expect(offersTo(1)).toEqual([]);
    expect(offersTo(2)).toEqual([expect.objectContaining({ consultation_id: r.consultation_id })]);
  });

  it("es finds the Spanish speaker; fr with nobody speaking it falls back after LANGUAGE_WAIT_MS", async () => {
    fakeSkills.set(2, { languages: ["en", "es"] });
    await online(1);
    await online(2);
    const es = await ask(9, { language: "es" });
    expect(offersTo(2).map((o: { consultation_id: string }) => o.consultation_id)).toEqual([es.consultation_id]);
    await t.engine.accept(2, es.consultation_id);
    const fr = await ask(10, { language: "fr" });
    expect(offersTo(1)).toEqual([]);
    t.clock.advance(59_000);
    await t.engine.tick();
    expect(offersTo(1)).toEqual([]);
    t.clock.advance(1_000);
    await t.engine.tick();
    expect(offersTo(1).map((o: { consultation_id: string }) => o.consultation_id)).toEqual([fr.consultation_id]);
  });

  it("an emergency overtakes a protected owner, who overtakes an ordinary one; places follow", async () => {
    const normal = await ask(20);
    const prot = await ask(91);
    const emergency = await ask(92, { emergency: true });
    expect(normal.position).toBe(1);
    expect(prot.position).toBe(1);
    expect(emergency.position).toBe(1);
    await t.engine.tick();
    // The ordinary owner was told their new place when the others went ahead.
    const placesOf = (userId: number) =>
      t.notifier.of(`user:1:${userId}`, "consult:queued").map((q: { position: number }) => q.position);
    expect(placesOf(20).at(-1)).toBe(3);
    expect(placesOf(91).at(-1)).toBe(2);
    await online(1);
    await online(2);
    await online(3);
    const firstOffer = (vetId: number) => offersTo(vetId)[0]?.consultation_id as string | undefined;
    expect([firstOffer(1), firstOffer(2), firstOffer(3)]).toEqual([
      emergency.consultation_id,
      prot.consultation_id,
      normal.consultation_id,
    ]);
  });

  it("an owner who waited PRIORITY_AGING_MS rises a class and is told the new place without any other change", async () => {
    const placesOf = (userId: number) =>
      t.notifier.of(`user:1:${userId}`, "consult:queued").map((q: { position: number }) => q.position);
    await ask(21);
    t.clock.advance(200_000);
    await ask(94); // protected: goes ahead
    await t.engine.tick();
    expect(placesOf(21).at(-1)).toBe(2);
    expect(placesOf(94).at(-1)).toBe(1);
    t.clock.advance(99_999);
    await t.engine.tick();
    expect(placesOf(21).at(-1)).toBe(2);
    t.clock.advance(1);
    await t.engine.tick();
    // Both protected now; the older goes first.
    expect(placesOf(21).at(-1)).toBe(1);
    expect(placesOf(94).at(-1)).toBe(2);
  });

  it("the wait estimate counts only the vets who could take the request", async () => {
    fakeSkills.set(1, { species: ["dog"] });
    await online(1);
    await online(2);
    const busy = await ask(60);
    await t.engine.accept(1, busy.consultation_id);
    const other = await ask(61);
    await t.engine.accept(2, other.consultation_id);
    // Both vets are busy; only vet 2 treats cats. Default handling time 300 s, place 1.
    await ask(62, { petId: PET_CAT });
    await ask(63, { petId: PET_DOG });
    const estimateOf = (userId: number) =>
      t.notifier.of(`user:1:${userId}`, "consult:queued").at(-1)?.estimated_wait_s as number;
    expect(estimateOf(62)).toBe(300);
    expect(estimateOf(63)).toBe(300);
  });

  it("a vet with max_chats 2 holds two chats at once; a video waits for a vet holding nothing", async () => {
    fakeSkills.set(1, { maxChats: 2 });
    await online(1);
    const a = await ask(30);
    await t.engine.accept(1, a.consultation_id);
    const b = await ask(31);
    expect(offersTo(1).at(-1)).toMatchObject({ consultation_id: b.consultation_id });
    await t.engine.accept(1, b.consultation_id);
    expect((await store.getConsultation(b.consultation_id))?.status).toBe("active");

    fakeSkills.set(2, { maxChats: 3 });
    await online(2);
    const chat = await ask(32);
    await t.engine.accept(2, chat.consultation_id);
    const video = await ask(33, { type: "video" });
    expect(offersTo(2).map((o: { consultation_id: string }) => o.consultation_id)).not.toContain(video.consultation_id);
    await t.engine.endByVet(2, chat.consultation_id);
    await t.engine.submitFeedback(2, chat.consultation_id, "rest", "ok");
    await t.engine.tick();
    expect(offersTo(2).at(-1)).toMatchObject({ consultation_id: video.consultation_id });
  });
});
