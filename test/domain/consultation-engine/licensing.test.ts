/**
 * PROTOCOL §4 licensing and care through the engine: regions required and checked, offers
 * only to licensed vets, advice to anyone, the advice fallback after `LICENSE_WAIT_MS`
 * (recorded first), talk-to-vet, rebuild. In-memory store, manual clock: no sleeps.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { RoutingConfig } from "../../../src/domain/engine-config.js";
import { NoVetAvailableError } from "../../../src/domain/errors.js";
import { Rebuilder } from "../../../src/domain/rebuild.js";
import { MemoryRoutingStore } from "../../../src/routing-store/memory/store.js";
import { createLogger } from "../../../src/lib/logger.js";
import {
  fakeDirectory,
  fakeRegions,
  fakeSkills,
  FlakyLedger,
  makeEngine,
  TEST_ROUTING,
} from "../../support/engine-fakes.js";
import { engineHelpers } from "../engine-helpers.js";

const WAIT_MS = 120_000;

describe("licensing and care (engine)", () => {
  let t: ReturnType<typeof makeEngine>;
  let store: MemoryRoutingStore;
  let ledger: FlakyLedger;
  const { online, offersTo } = engineHelpers(() => t);

  const start = (routing: Partial<RoutingConfig> = { licensing: true, licenseWaitMs: WAIT_MS }) => {
    store = new MemoryRoutingStore();
    ledger = new FlakyLedger();
    t = makeEngine(store, { routing, ledger });
  };
  beforeEach(() => start());
  afterEach(() => {
    fakeSkills.clear();
    fakeRegions.clear();
  });

  type Ask = { region?: string; care?: "treatment" | "advice"; adviceFallback?: boolean };
  const ask = (userId: number, over: Ask = {}) =>
    t.engine.request({ appId: 1, userId, petId: 1, type: "chat", ...over });
  const queuedTo = (userId: number) => t.notifier.of(`user:1:${userId}`, "consult:queued");

  it("a treatment request needs a region (the request's or the owner's); advice does not; an unknown code is refused", async () => {
    await expect(ask(1)).rejects.toMatchObject({ status: 422, messages: ["The region field is required."] });
    await expect(ask(1, { region: "XX" })).rejects.toMatchObject({
      status: 422,
      messages: ["The selected region is invalid."],
    });
    await expect(ask(1, { region: "US-ZZ" })).rejects.toMatchObject({
      status: 422,
      messages: ["The selected region is invalid."],
    });
    const advice = await ask(1, { care: "advice" });
    expect(await store.getConsultation(advice.consultation_id)).toMatchObject({ care: "advice", region: null });
    fakeRegions.set(2, "GB");
    const owners = await ask(2);
    expect(await store.getConsultation(owners.consultation_id)).toMatchObject({ care: "treatment", region: "GB" });
    // The request's region overrides the owner's.
    fakeRegions.set(3, "GB");
    const moved = await ask(3, { region: "DE" });
    expect(await store.getConsultation(moved.consultation_id)).toMatchObject({ region: "DE" });
    expect(ledger.rows.get(moved.consultation_id)).toMatchObject({
      region: "DE",
      care: "treatment",
      adviceFallback: false,
    });
  });

  it("treatment is offered only to a licensed vet (a country covers its regions), even past one idle longer; the offer says care and region", async () => {
    fakeSkills.set(1, { licenses: ["US-NY"] });
    fakeSkills.set(2, { licenses: ["US"] });
    await online(1);
    await online(2);
    const c = await ask(5, { region: "US-CA" });
    expect(offersTo(1)).toEqual([]);
    expect(offersTo(2)).toEqual([
      expect.objectContaining({ consultation_id: c.consultation_id, care: "treatment", region: "US-CA" }),
    ]);
    const accepted = await t.engine.accept(2, c.consultation_id);
    expect(accepted).toMatchObject({ care: "treatment", region: "US-CA" });
    // Advice goes to anyone, here the vet licensed elsewhere.
    const advice = await ask(6, { region: "US-CA", care: "advice" });
    expect(offersTo(1)).toEqual([
      expect.objectContaining({ consultation_id: advice.consultation_id, care: "advice", region: "US-CA" }),
    ]);
  });

  it("the advice fallback: no licensed vet within LICENSE_WAIT_MS → recorded as advice, the owner told, any vet offered", async () => {
    await online(1); // licensed nowhere
    const c = await ask(5, { region: "US-TX", adviceFallback: true });
    expect(c.status).toBe("queued");
    t.clock.advance(WAIT_MS - 2000);
    await t.engine.tick();
    expect(offersTo(1)).toEqual([]);
    expect((await store.getConsultation(c.consultation_id))?.care).toBe("treatment");
    t.clock.advance(2000);
    await t.engine.tick();
    expect(ledger.rows.get(c.consultation_id)?.care).toBe("advice");
    expect(ledger.events.filter((e) => e.id === c.consultation_id && e.from === "queued" && e.to === "queued")).toEqual(
      [expect.objectContaining({ detail: { care: "advice", reason: "no_licensed_vet" } })],
    );
    expect(queuedTo(5).filter((q) => q.reason)).toEqual([
      {
        consultation_id: c.consultation_id,
        position: 1,
        estimated_wait_s: expect.any(Number),
        care: "advice",
        reason: "no_licensed_vet",
      },
    ]);
    expect(offersTo(1)).toEqual([expect.objectContaining({ consultation_id: c.consultation_id, care: "advice" })]);
    // Once only.
    t.clock.advance(WAIT_MS);
    await t.engine.tick();
    expect(queuedTo(5).filter((q) => q.reason)).toHaveLength(1);
  });

  it("without advice_fallback a treatment request keeps waiting for a licensed vet, until its queue timeout", async () => {
    await online(1);
    const c = await ask(5, { region: "US-TX" });
    t.clock.advance(WAIT_MS + 1000);
    await t.engine.tick();
    expect(offersTo(1)).toEqual([]);
    expect(await store.getConsultation(c.consultation_id)).toMatchObject({ status: "queued", care: "treatment" });
    fakeSkills.set(2, { licenses: ["US-TX"] });
    await online(2);
    await t.engine.tick();
    expect(offersTo(2)).toEqual([expect.objectContaining({ consultation_id: c.consultation_id })]);
  });

  it("offered to a licensed vet when the wait runs out: no fallback while the offer runs; declined, it falls back after the offer's time", async () => {
    fakeSkills.set(2, { licenses: ["US-TX"] });
    await online(1);
    const c = await ask(5, { region: "US-TX", adviceFallback: true });
    t.clock.advance(WAIT_MS - 10_000);
    await online(2); // a licensed vet arrives with 10 s left and is offered it
    await t.engine.tick();
    expect(offersTo(2)).toHaveLength(1);
    t.clock.advance(10_000);
    await t.engine.tick();
    expect((await store.getConsultation(c.consultation_id))?.care).toBe("treatment");
    await t.engine.decline(2, c.consultation_id);
    expect(offersTo(1)).toEqual([]);
    t.clock.advance(30_000);
    await t.engine.tick();
    expect((await store.getConsultation(c.consultation_id))?.care).toBe("advice");
    expect(offersTo(1)).toEqual([expect.objectContaining({ consultation_id: c.consultation_id, care: "advice" })]);
  });

  it("the database away at the deadline: nothing changes, nobody is told, and it is tried again", async () => {
    await online(1);
    const c = await ask(5, { region: "US-TX", adviceFallback: true });
    ledger.down = true;
    t.clock.advance(WAIT_MS);
    await t.engine.tick();
    expect((await store.getConsultation(c.consultation_id))?.care).toBe("treatment");
    expect(queuedTo(5).filter((q) => q.reason)).toEqual([]);
    ledger.down = false;
    t.clock.advance(1000);
    await t.engine.tick();
    expect((await store.getConsultation(c.consultation_id))?.care).toBe("advice");
    expect(queuedTo(5).filter((q) => q.reason === "no_licensed_vet")).toHaveLength(1);
  });

  it("with licensing off, region and care are recorded and shown, and routing ignores them", async () => {
    start({});
    await online(1);
    const c = await ask(5, { region: "US-TX" });
    expect(offersTo(1)).toEqual([
      expect.objectContaining({ consultation_id: c.consultation_id, care: "treatment", region: "US-TX" }),
    ]);
    // No region needed, no fallback deadline.
    const none = await ask(6, { adviceFallback: true });
    expect(await store.getConsultation(none.consultation_id)).toMatchObject({ region: null, careDeadline: null });
  });

  it("talk-to-vet: a licensed vet or 503; with advice_fallback, advice at once (it cannot wait)", async () => {
    fakeSkills.set(2, { licenses: ["US-CA"] });
    await online(1);
    await expect(
      t.engine.talkToVet({ appId: 1, userId: 5, petId: 1, type: "chat", region: "US-TX" }),
    ).rejects.toBeInstanceOf(NoVetAvailableError);
    const advice = await t.engine.talkToVet({
      appId: 1,
      userId: 5,
      petId: 1,
      type: "chat",
      region: "US-TX",
      adviceFallback: true,
    });
    expect(advice.consultation).toMatchObject({ care: "advice", vetId: 1 });
    expect(ledger.rows.get(advice.consultation.id)).toMatchObject({ care: "advice", region: "US-TX" });
    await online(2);
    const treated = await t.engine.talkToVet({
      appId: 1,
      userId: 6,
      petId: 1,
      type: "chat",
      region: "US-CA",
      adviceFallback: true,
    });
    expect(treated.consultation).toMatchObject({ care: "treatment", vetId: 2 });
  });

  it("rebuild: a waiting treatment request gets its fallback deadline back from its creation time", async () => {
    await online(1);
    const c = await ask(5, { region: "US-TX", adviceFallback: true });
    const created = t.clock.now();
    const fresh = new MemoryRoutingStore();
    const rebuilder = new Rebuilder({
      store: fresh,
      ledger,
      directory: fakeDirectory,
      clock: t.clock,
      logger: createLogger("silent"),
      nodeId: "node-b",
      routing: { ...TEST_ROUTING, licensing: true, licenseWaitMs: WAIT_MS },
    });
    expect(await rebuilder.check()).toBe("changed");
    expect(await fresh.getConsultation(c.consultation_id)).toMatchObject({
      region: "US-TX",
      care: "treatment",
      adviceFallback: true,
      careDeadline: created + WAIT_MS,
    });
    expect(await fresh.claimDue(created + WAIT_MS, 10)).toContainEqual({
      kind: "license",
      ref: c.consultation_id,
      at: created + WAIT_MS,
    });
  });
});
