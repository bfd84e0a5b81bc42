/**
 * A waiting request as the live state holds it, for tests of the planner, the rules, the
 * stores and the ledger: the fields every new request starts with, then the test's own.
 */
import type { LiveConsultation } from "../../src/domain/types.js";

/** Who asked and when: the fields that differ between tests' requests. */
export type RequestIdentity = Pick<LiveConsultation, "id" | "appId" | "userId" | "createdAt">;

/** A queued chat request with no offer, vet or Twilio resources yet; `over` wins. */
export function queuedRequest(who: RequestIdentity, over: Partial<LiveConsultation> = {}): LiveConsultation {
  return {
    petId: null,
    type: "chat",
    status: "queued",
    seq: 1,
    queueDeadline: who.createdAt + 600_000,
    requestedVetId: null,
    offer: null,
    excludedVetIds: [],
    vetId: null,
    acceptedAt: null,
    channelSid: null,
    roomSid: null,
    profile: { user: { id: who.userId, first_name: "O", last_name: null, email: "o@example.com" }, pet: null },
    ...who,
    ...over,
  };
}
