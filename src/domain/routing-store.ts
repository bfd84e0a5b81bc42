import type {
  Care,
  Deadline,
  DeadlineKind,
  HeldOffer,
  LiveConsultation,
  Referral,
  VetChosenStatus,
  VetPresence,
  VetSkills,
} from "./types.js";
import type { RoutingRules } from "./routing-rules.js";

/**
 * Live routing state: vet presence, the queue, offers, deadlines and node liveness.
 *
 * Every method but the whole-queue read ({@link RoutingStore.snapshot}) is one atomic
 * step. With several gateway nodes sharing one store, two callers racing on the same
 * consultation or vet see a single winner; the losers get a refusal they can act on. This
 * is what keeps the two absolute rules true: no consultation is assigned to two vets, and
 * no vet holds two offers.
 *
 * The routing *policy* (who gets offered what) lives in the domain planner; the store only
 * checks preconditions and applies the change. Times are passed in (epoch ms) so that an
 * injected clock drives both implementations.
 *
 * Implementations in `src/routing-store/`: `MemoryRoutingStore` (single node), `RedisRoutingStore` (many nodes).
 * One contract test suite runs against both.
 */
export interface RoutingStore {
  // ---------- nodes ----------

  /**
   * Marks `nodeId` alive until `now + ttlMs`. Returns false when the node was not
   * registered before the call: new, or reaped after missing its heartbeats (a long pause),
   * in which case its connections are gone from routing and must be registered again.
   */
  heartbeat(nodeId: string, now: number, ttlMs: number): Promise<boolean>;

  /**
   * Finds nodes whose heartbeat lapsed before `now` and cleans each up exactly once (one
   * caller wins per dead node): removes its vet and user connections; vets left with no
   * connection go offline and the offers they held return to the queue with the vet
   * excluded. Returns what was cleaned so the caller can re-route and start grace periods.
   */
  reapDeadNodes(now: number): Promise<NodeCleanup[]>;

  /** Removes a node that is shutting down on purpose; same cleanup as a dead node. */
  removeNode(nodeId: string, now: number): Promise<NodeCleanup>;

  // ---------- vets ----------

  /**
   * Adds one socket connection of a vet. A vet coming online (0 → 1 connections) starts
   * `away` with `idleSince = now`: it must choose `available` before it gets offers.
   * `skills`, when given, replace the vet's routing skills in the same step, unless the
   * stored ones have a higher `version` (an operator's change landed after the caller read
   * them; see {@link setVetSkills}). Returns the vet's presence after the change.
   */
  addVetConnection(
    vetId: number,
    connId: string,
    nodeId: string,
    now: number,
    skills?: VetSkills,
  ): Promise<VetPresence>;

  /**
   * Removes one connection. When it was the vet's last, the vet is offline and an offer it
   * held is released (outcome `disconnected`, vet excluded from that request).
   */
  removeVetConnection(vetId: number, connId: string, now: number): Promise<VetRelease>;

  /**
   * Sets the vet's chosen status. Becoming `available` from `away` resets `idleSince` to
   * `now`. Going `away` while holding an offer releases it (outcome `away`).
   */
  setVetStatus(vetId: number, status: VetChosenStatus, now: number): Promise<VetRelease>;

  /**
   * Replaces the vet's routing skills unless the stored ones have a higher `version`. A vet
   * routing does not know yet is created offline (`away`, no connections) holding them, so
   * that a connection that read older skills before this call cannot install those.
   */
  setVetSkills(vetId: number, skills: VetSkills): Promise<void>;

  /** Ends wrap-up (feedback given or time up): the vet is free again from `now`. */
  endWrapup(vetId: number, now: number): Promise<VetPresence | null>;

  getVet(vetId: number): Promise<VetPresence | null>;

  // ---------- users ----------

  /** Adds a user socket connection; returns the user's live connection count. */
  addUserConnection(appId: number, userId: number, connId: string, nodeId: string): Promise<number>;

  /** Removes a user socket connection; returns the remaining count. */
  removeUserConnection(appId: number, userId: number, connId: string): Promise<number>;

  /** The user's live socket connections across all nodes (0: offline). */
  userConnectionCount(appId: number, userId: number): Promise<number>;

  /** The user's open (queued, offered or active) consultation, if any. */
  findOpenByUser(appId: number, userId: number): Promise<LiveConsultation | null>;

  // ---------- consultations ----------

  /**
   * Adds a queued consultation unless the user already has an open one, which is returned
   * instead (`created: false`). Assigns `seq` and schedules its `queue` deadline at
   * `c.queueDeadline`. With `maxQueuedPerApp` > 0, refuses (throws `AppQueueFullError` of `errors.ts`)
   * when `c.appId` already has that many consultations queued or offered, checked in the
   * same atomic step; 0 (the default) skips the count. The answered `position` is the place
   * in serving order (`queueComparator` of `routing-rules.ts` at `c.createdAt` with `priorityAgingMs`).
   */
  enqueue(c: NewLiveConsultation, maxQueuedPerApp?: number, priorityAgingMs?: number): Promise<EnqueueResult>;

  /**
   * Creates an already-active consultation assigned to `vetId` (REST talk-to-vet), only if
   * that vet can take it (`canTake` of `routing-rules.ts`, language not binding: talk-to-vet cannot wait) and
   * the user has no open consultation.
   */
  assignDirect(c: NewLiveConsultation, vetId: number, now: number, rules: RoutingRules): Promise<AssignResult>;

  getConsultation(id: string): Promise<LiveConsultation | null>;

  /**
   * Sets the care of an open consultation as the ledger recorded it (PROTOCOL §4: treatment
   * that found no licensed vet becomes advice) and drops its advice fallback deadline (the
   * `license` deadline). Null when it is not open.
   */
  setCare(id: string, care: Care): Promise<LiveConsultation | null>;

  /**
   * Offers a queued consultation to a vet, only if the consultation is `queued` with no
   * offer, the vet can take it (`canTake` of `routing-rules.ts`: eligible, not excluded, species, channel,
   * language window; language not binding for the vet the owner asked for) and no request
   * waiting ahead of it in serving order (`queueComparator` of `routing-rules.ts`) could go to this vet
   * (`out_of_order`: the plan was stale). Schedules the `offer` deadline.
   */
  claimOffer(
    consultationId: string,
    vetId: number,
    now: number,
    expiresAt: number,
    rules: RoutingRules,
  ): Promise<ClaimResult>;

  /**
   * The vet accepts its offer: only if the vet holds this offer and it has not expired
   * (`expiresAt > now`). The consultation becomes active; the offer deadline is removed.
   * Accepting again a consultation already active with the same vet returns it (idempotent).
   * `channelSid`, when given, is set in the same step if this accept activates it.
   *
   * A referral entry's offer (PROTOCOL §10) instead hands its consultation to the vet, only
   * while that consultation is active with the referral's first vet: the entry is gone, the
   * vet holds the consultation, and the first vet either no longer does (`cold`) or holds it
   * too as `leavingVetId` (`warm`); the reply's `consultation` is the referred one, with
   * `referral`. No consultation ever has two holders but in such a warm overlap.
   */
  acceptOffer(consultationId: string, vetId: number, now: number, channelSid?: string): Promise<AcceptResult>;

  /**
   * Undoes an {@link acceptOffer} whose durable write failed (record first, PROTOCOL §6):
   * the consultation, active with `vetId`, is offered to that vet again with `offer` (its
   * offer deadline again), or queued (vet not excluded) when the vet holds another offer by
   * now. Back in the queue at its `seq`, with its `queue` deadline. Returns the status it went
   * back to, or null when it is not active with that vet (nothing changed).
   */
  revertAccept(consultationId: string, vetId: number, offer: HeldOffer): Promise<"offered" | "queued" | null>;

  /**
   * Ends the vet's offer without acceptance: the consultation returns to `queued`, the vet
   * is excluded from it. With `setAway` the vet's status becomes `away` in the same step.
   * (Why the offer ended, e.g. `declined` or `timeout`, is the caller's to record.)
   * Returns the consultation, queued again, and the offer released (its outcome record
   * needs the offer's times), or null when this vet does not hold this offer (already
   * resolved elsewhere).
   */
  releaseOffer(consultationId: string, vetId: number, opts?: { setAway?: boolean }): Promise<ReleasedOffer | null>;

  /** Sets the channel or room SID on an open consultation. */
  updateSids(consultationId: string, sids: { channelSid?: string; roomSid?: string }): Promise<LiveConsultation | null>;

  /**
   * Removes an open consultation for good (ended, cancelled or expired), with its
   * deadlines. A held offer is released; a warm referral's leaving vet is free at once (its
   * referral entry is the caller's to end first, {@link endReferral}). An active consultation's vet enters wrap-up until
   * `wrapupUntil` (a `wrapup` deadline is scheduled), or is free at once when null.
   * Returns null when it is no longer open (idempotent).
   */
  finish(consultationId: string, now: number, wrapupUntil: number | null): Promise<FinishResult | null>;

  /**
   * Hands an active consultation back to the queue (its vet left or was disabled, PROTOCOL
   * §4): same id, `queued` with no vet, `transferred` (ahead of every waiting request, see
   * {@link queueOrder}), the old vet excluded and no longer holding it, and a `queue`
   * deadline at `queueDeadline`. SIDs stay: the next vet joins the same Conversation.
   * Returns null when the consultation is not active (ended or already handed over), or, with
   * `ifVetOffline`, when its vet has a connection again (back in time: nothing changes).
   */
  transfer(
    consultationId: string,
    now: number,
    queueDeadline: number,
    opts?: { ifVetOffline?: boolean },
  ): Promise<TransferResult | null>;

  // ---------- referrals (PROTOCOL §10) ----------

  /**
   * Refers an active consultation held by `fromVetId` alone (no referral pending, no warm
   * overlap) to another vet: the consultation gets `referral`, and a queue entry
   * ({@link referralEntryId}) joins the transferred class with `to`'s species and language
   * (binding), its `type`, region and care, `requestedVetId` the named vet (binding), the first
   * vet excluded, and a `queue` deadline at `referral.deadline`. Routing offers the entry like a
   * request ({@link claimOffer}, {@link releaseOffer}); {@link acceptOffer} of it hands the
   * consultation over. `referral.species` and `language` are what `to` asked for.
   */
  requestReferral(consultationId: string, referral: Referral): Promise<ReferralRequestResult>;

  /**
   * Withdraws the consultation's pending referral (cancelled, failed, or its consultation
   * ends or is handed over): the entry leaves the queue with its deadlines, and a vet holding
   * its offer no longer does. Null when none is pending (accepted or ended already).
   */
  endReferral(consultationId: string): Promise<EndedReferral | null>;

  /**
   * The first vet of a warm referral leaves (`consult:leave`): it no longer holds the
   * consultation (free again from `now` if it holds nothing else). Null when `vetId` is not
   * its leaving vet.
   */
  leaveConsultation(consultationId: string, vetId: number, now: number): Promise<LeaveResult | null>;

  /**
   * Undoes a referral's {@link acceptOffer} whose durable write failed (record first): the
   * consultation, held by `vetId` as that accept left it, is `referral`'s first vet's again
   * (held again when cold) with the referral pending, and its entry is offered to `vetId` again
   * with `offer` (its offer deadline), or waits (`vetId` not excluded) when that vet holds another
   * offer by now. `referral.species` and `language` are the entry's. Null when the
   * consultation is no longer as that accept left it (nothing changed).
   */
  revertReferral(
    consultationId: string,
    vetId: number,
    referral: Referral,
    offer: HeldOffer,
    now: number,
  ): Promise<"offered" | "queued" | null>;

  // ---------- rebuild (PROTOCOL §6) ----------

  /**
   * Puts an open consultation back into live state exactly as given (rebuild, or undoing a
   * step whose ledger write failed). No-op returning false when it is already there or its
   * user has another open one. `queued` → into the queue at `c.seq` (the store's seq counter
   * ends above it) with its `queue` deadline at `c.queueDeadline`, keeping `excludedVetIds`;
   * `active` → the vet `c.vetId` holds it among `activeConsultationIds` (an unknown vet is
   * created offline, `away`). Never `offered`: callers pass offered ones as `queued`.
   */
  restore(c: LiveConsultation): Promise<boolean>;

  /**
   * Puts a vet back in wrap-up after `consultationId` until `until` (at least), with its
   * `wrapup` deadline; an unknown vet is created offline. False when already so.
   */
  restoreWrapup(vetId: number, consultationId: string, until: number): Promise<boolean>;

  /** The epoch marker of the live state: null when it was lost (empty store) or never built. */
  liveEpoch(): Promise<string | null>;

  /**
   * Takes the rebuild lock for `ttlMs` (one holder across nodes); false when another token
   * holds it. The holder may claim it again (renewed): a failed rebuild is retried at once.
   */
  claimRebuild(token: string, ttlMs: number): Promise<boolean>;

  /**
   * Sets the epoch marker after a rebuild and releases the lock held with `token`, only while
   * that token holds it; false (nothing set) when it does not, e.g. Redis lost its data again
   * during the rebuild: what was restored before is gone, so the rebuild must run again.
   */
  setLiveEpoch(epoch: string, token: string): Promise<boolean>;

  // ---------- deadlines ----------

  addDeadline(kind: DeadlineKind, ref: string, at: number): Promise<void>;
  removeDeadline(kind: DeadlineKind, ref: string): Promise<void>;
  /** Pops up to `limit` deadlines due at `now`; each is handed to exactly one caller. */
  claimDue(now: number, limit: number): Promise<Deadline[]>;

  // ---------- reads for planning and stats ----------

  /**
   * Queued and offered consultations in {@link queueOrder} (without profiles), and every
   * known vet. It grows with the queue: a store may read it in parts (Redis does, so that
   * no single call holds it for long), each consultation at most once, as it was when its
   * part was read; one that comes back to the queue behind the part read so far while the
   * read runs (`revertAccept`, `transfer`, `restore`) is missed until the next read.
   */
  snapshot(): Promise<RoutingSnapshot>;

  /** Every known vet (the `vets` of {@link snapshot}, without reading the queue). */
  knownVets(): Promise<VetPresence[]>;

  /**
   * The head of the queue for the vets free now (`isEligible` with `maxConsults`), and every
   * known vet. Of the consultations waiting for an offer (queued, none held): of each species
   * a free vet treats and of those with no species (of all, when a free vet treats every
   * species), the `QUEUE_HEAD_LIMIT` of `routing-rules.ts` with the smallest `seq` and as many
   * of each urgent class (`urgentClassOf`); all of them when no more than `QUEUE_HEAD_LIMIT`
   * wait; plus those of `include` still waiting wherever they are. Without
   * repeats, by `seq`; nothing of the queue but `include` when more wait and no vet is free. `truncated`:
   * a range read had more. A routing pass made for an event reads this (`include`: the
   * requests the event is about): its cost does not grow with the queue.
   */
  headSnapshot(maxConsults: number, include?: readonly string[]): Promise<RoutingSnapshot>;

  close(): Promise<void>;
}

/** A consultation as given to {@link RoutingStore.enqueue}; the store fills `seq`. */
export type NewLiveConsultation = Omit<LiveConsultation, "seq">;

export interface EnqueueResult {
  created: boolean;
  consultation: LiveConsultation;
  /** 1-based place among queued and offered consultations; 0 when already active. */
  position: number;
}

export type AssignResult =
  | { ok: true; consultation: LiveConsultation }
  | { ok: false; reason: "vet_not_eligible" | "user_has_open"; existing?: LiveConsultation };

export type ClaimResult =
  | { ok: true; consultation: LiveConsultation }
  | { ok: false; reason: "consultation_not_queued" | "vet_not_eligible" | "vet_excluded" | "out_of_order" };

export type AcceptResult =
  | {
      ok: true;
      consultation: LiveConsultation;
      alreadyActive: boolean;
      /** The offer this accept resolved (not on a repeated accept): what {@link RoutingStore.revertAccept} puts back. */
      offer?: HeldOffer;
      /** Set when the offer was a referral's (PROTOCOL §10): the consultation changed hands. */
      referral?: ReferralAccepted;
    }
  | { ok: false; reason: "no_offer" | "expired" };

/**
 * The accept of a referral entry's offer: `consultation` is the referred one, now held by the
 * new vet (`vetId`), with the first vet as `leavingVetId` when warm.
 */
export interface ReferralAccepted {
  fromVetId: number;
  referral: Referral;
}

export type ReferralRequestResult =
  | { ok: true; consultation: LiveConsultation; entry: LiveConsultation }
  | { ok: false; reason: "not_found" | "not_holder" | "not_active" | "pending" };

export interface EndedReferral {
  /** The consultation, its referral gone. */
  consultation: LiveConsultation;
  referral: Referral;
  /** The vet whose offer of the entry was revoked, with that offer. */
  revokedOffer: HeldOffer | null;
}

export interface LeaveResult {
  consultation: LiveConsultation;
  presence: VetPresence | null;
}

/** An offer that ended without acceptance: the consultation, queued again, and the offer. */
export interface ReleasedOffer {
  consultation: LiveConsultation;
  offer: HeldOffer;
}

export interface VetRelease {
  presence: VetPresence | null;
  /** The consultation whose offer was released, now queued again. */
  released: LiveConsultation | null;
  /** That offer (with `released`). */
  offer: HeldOffer | null;
}

export interface FinishResult {
  /** The consultation as it was just before removal. */
  consultation: LiveConsultation;
  /** The vet whose offer was revoked by this, if it was offered. */
  revokedOfferVetId: number | null;
  /**
   * Consultations still queued with no offer, after this step. When 0 a routing pass has
   * nothing to do: a request enqueued later triggers its own pass.
   */
  waiting: number;
}

export interface TransferResult {
  /** The consultation, queued again. */
  consultation: LiveConsultation;
  /** The vet who held it. */
  fromVetId: number;
  /** Its 1-based place in the queue after the step. */
  position: number;
}

export interface NodeCleanup {
  nodeId: string;
  /** Vets that went offline. */
  offlineVetIds: number[];
  /** Offers returned to the queue, with the offer each vet held. */
  released: Array<{ consultation: LiveConsultation; vetId: number; offer: HeldOffer }>;
  /** Users left with no connection (for grace periods). */
  disconnectedUsers: Array<{ appId: number; userId: number }>;
}

/** A queued or offered consultation as planning sees it: everything but the display profile. */
export type QueueEntry = Omit<LiveConsultation, "profile">;

export interface RoutingSnapshot {
  queue: QueueEntry[];
  vets: VetPresence[];
  /** From {@link RoutingStore.headSnapshot}: more requests wait for an offer than `queue` holds. */
  truncated?: boolean;
}

/**
 * Storage order of both stores' queues: transferred consultations first, then by `seq`
 * (Redis scores a transferred one `seq - TRANSFER_OFFSET`). Serving order adds priority
 * classes and aging on top: `queueComparator` of `routing-rules.ts` in `routing-rules.ts`.
 */
export function queueOrder(
  a: Pick<LiveConsultation, "seq" | "transferred">,
  b: Pick<LiveConsultation, "seq" | "transferred">,
): number {
  return Number(b.transferred === true) - Number(a.transferred === true) || a.seq - b.seq;
}
