import { beforeEach, describe, expect, it } from "vitest";
import { MemoryRoutingStore } from "../../src/routing-store/memory/store.js";
import { makeEngine } from "../support/engine-fakes.js";
import { engineHelpers } from "./engine-helpers.js";

/** Feedback: stored, relayed, and it ends the vet's wrap-up. In-memory store, manual clock: no sleeps. */
describe("feedback", () => {
  let store: MemoryRoutingStore;
  let t: ReturnType<typeof makeEngine>;
  const { online, request, offersTo } = engineHelpers(() => t);

  beforeEach(() => {
    store = new MemoryRoutingStore();
    t = makeEngine(store);
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

  it("outcome (PROTOCOL §10): stored and relayed; one not in OUTCOMES is a 422 that changes nothing; a custom list applies", async () => {
    await online(1);
    const a = await request(1);
    await t.engine.accept(1, a.consultation_id);
    await t.engine.submitFeedback(1, a.consultation_id, "Rest", "Cough", "follow_up");
    expect(t.ledger.feedback.get(a.consultation_id)).toMatchObject({ recommendation: "Rest", outcome: "follow_up" });
    expect(t.notifier.of("user:1:1", "consult:feedback").at(-1)).toMatchObject({
      recommendation: "Rest",
      outcome: "follow_up",
    });
    await expect(t.engine.submitFeedback(1, a.consultation_id, "Other", "Other", "cured")).rejects.toMatchObject({
      status: 422,
      messages: ["The selected outcome is invalid."],
    });
    expect(t.ledger.feedback.get(a.consultation_id)).toMatchObject({ recommendation: "Rest", outcome: "follow_up" });

    const custom = makeEngine(new MemoryRoutingStore(), { outcomes: ["fixed", "referred"] });
    const h = engineHelpers(() => custom);
    await h.online(1);
    const b = await h.request(1);
    await custom.engine.accept(1, b.consultation_id);
    await expect(custom.engine.submitFeedback(1, b.consultation_id, "x", "y", "resolved")).rejects.toMatchObject({
      status: 422,
    });
    await custom.engine.submitFeedback(1, b.consultation_id, "x", "y", "referred");
    expect(custom.ledger.feedback.get(b.consultation_id)).toMatchObject({ outcome: "referred" });
  });
});
