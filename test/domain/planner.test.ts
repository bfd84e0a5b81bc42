import { describe, expect, it } from "vitest";
import { planOffers } from "../../src/domain/planner.js";
import { queueOrder, type QueueEntry } from "../../src/domain/routing-store.js";
import type { VetPresence } from "../../src/domain/types.js";
import { routingRules } from "../../src/domain/routing-rules.js";
import { queuedRequest } from "../support/live-consultations.js";

const RULES = routingRules({ vetMaxConsults: 1 });
const T = 1_000;

const entry = (id: string, seq: number, transferred?: boolean): QueueEntry =>
  queuedRequest(
    { id, appId: 1, userId: seq, createdAt: 0 },
    { petId: 1, seq, queueDeadline: 1e12, ...(transferred ? { transferred } : {}) },
  );
const vet = (vetId: number): VetPresence => ({
  vetId,
  status: "available",
  connections: 1,
  idleSince: vetId,
  offerConsultationId: null,
  activeConsultationIds: [],
  wrapupUntil: null,
  wrapupConsultationId: null,
});

/** Queue order (PROTOCOL §4): transferred requests first, then arrival. */
describe("planner queue order", () => {
  it("queueOrder puts transferred first, then seq", () => {
    const sorted = [entry("a", 1), entry("t2", 5, true), entry("b", 2), entry("t1", 3, true)].sort(queueOrder);
    expect(sorted.map((e) => e.id)).toEqual(["t1", "t2", "a", "b"]);
  });

  it("plans a transferred request ahead of older waiting ones, whatever order the snapshot gives", () => {
    const plan = planOffers({ queue: [entry("a", 1), entry("t", 9, true)], vets: [vet(1)] }, RULES, T);
    expect(plan).toEqual([{ consultationId: "t", vetId: 1, requested: false }]);
    const two = planOffers({ queue: [entry("a", 1), entry("t", 9, true)], vets: [vet(1), vet(2)] }, RULES, T);
    expect(two.map((p) => [p.consultationId, p.vetId])).toEqual([
      ["t", 1],
      ["a", 2],
    ]);
  });
});
