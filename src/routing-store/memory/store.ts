import { canTake, isEligible, queueComparator, type RoutingRules } from "../../domain/routing-rules.js";
import {
  queueOrder,
  type AcceptResult,
  type AssignResult,
  type ClaimResult,
  type EndedReferral,
  type EnqueueResult,
  type LeaveResult,
  type ReferralRequestResult,
  type FinishResult,
  type NewLiveConsultation,
  type NodeCleanup,
  type ReleasedOffer,
  type RoutingSnapshot,
  type RoutingStore,
  type TransferResult,
  type VetRelease,
} from "../../domain/routing-store.js";
import { AppQueueFullError } from "../../domain/errors.js";
import { MemoryConnections, userKey } from "./connections.js";
import { MemoryDeadlines } from "./deadlines.js";
import { queueHead, snapshotOf, waitingOf } from "./queue-head.js";
import { MemoryRebuildLock } from "./rebuild-lock.js";
import {
  acceptReferral,
  endReferral,
  leaveConsultation,
  release,
  requestReferral,
  revertReferral,
  type ReferralState,
} from "./referrals.js";
import { placeAmong, revertAccept, transfer } from "./moves.js";
import { dropActive, holdActive, offlineVet, takeSkills } from "./vet-holdings.js";
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
} from "../../domain/types.js";

/**
 * Single-node {@link RoutingStore} used when `REDIS_URL` is unset. Each method runs to
 * completion without awaiting, which is what makes it atomic on one event loop. Returned
 * objects are copies, so callers cannot mutate the store by accident.
 */
export class MemoryRoutingStore implements RoutingStore {
  private readonly consultations = new Map<string, LiveConsultation>();
  private readonly vets = new Map<number, VetPresence>();
  private readonly connections = new MemoryConnections();
  private readonly userOpen = new Map<string, string>();
  /** Ids of consultations queued with no offer (what a routing pass can act on). */
  private readonly waiting = new Set<string>();
  private readonly deadlines = new MemoryDeadlines();
  private seq = 0;
  private readonly rebuild = new MemoryRebuildLock();
  private readonly referrals: ReferralState = {
    consultations: this.consultations,
    vets: this.vets,
    waiting: this.waiting,
    deadlines: this.deadlines,
    nextSeq: () => ++this.seq,
  };

  heartbeat(nodeId: string, now: number, ttlMs: number): Promise<boolean> {
    return Promise.resolve(this.connections.heartbeat(nodeId, now + ttlMs));
  }

  reapDeadNodes(now: number): Promise<NodeCleanup[]> {
    return Promise.resolve(this.connections.deadNodes(now).map((id) => this.cleanupNode(id)));
  }

  removeNode(nodeId: string, _now: number): Promise<NodeCleanup> {
    return Promise.resolve(this.cleanupNode(nodeId));
  }

  private cleanupNode(nodeId: string): NodeCleanup {
    const { vets, usersGone } = this.connections.dropNode(nodeId);
    const result: NodeCleanup = { nodeId, offlineVetIds: [], released: [], disconnectedUsers: usersGone };
    for (const { vetId, remaining } of vets) {
      if (remaining === 0) {
        const { released, offer } = this.dropLastConnection(vetId); // outcome node_dead
        result.offlineVetIds.push(vetId);
        if (released && offer) result.released.push({ consultation: released, vetId, offer });
      } else {
        const vet = this.vets.get(vetId);
        if (vet) vet.connections = remaining;
      }
    }
    return result;
  }

  addVetConnection(
    vetId: number,
    connId: string,
    nodeId: string,
    now: number,
    skills?: VetSkills,
  ): Promise<VetPresence> {
    const { count, wasOffline } = this.connections.addVet(vetId, connId, nodeId);
    const vet = this.vetOrNew(vetId, now);
    if (wasOffline) {
      vet.status = "away";
      vet.idleSince = now;
    }
    vet.connections = count;
    if (skills) takeSkills(vet, skills);
    return Promise.resolve(clone(vet));
  }

  removeVetConnection(vetId: number, connId: string, _now: number): Promise<VetRelease> {
    const vet = this.vets.get(vetId);
    const remaining = vet ? this.connections.removeVet(vetId, connId) : null;
    if (!vet || remaining === null) {
      return Promise.resolve({ presence: vet ? clone(vet) : null, released: null, offer: null });
    }
    if (remaining > 0) {
      vet.connections = remaining;
      return Promise.resolve({ presence: clone(vet), released: null, offer: null });
    }
    return Promise.resolve(this.dropLastConnection(vetId)); // outcome disconnected
  }

  private dropLastConnection(vetId: number): VetRelease {
    const vet = this.vets.get(vetId);
    if (!vet) return { presence: null, released: null, offer: null };
    vet.connections = 0;
    const r = vet.offerConsultationId ? this.release(vet.offerConsultationId, vetId, false) : null;
    return { presence: clone(vet), released: r?.consultation ?? null, offer: r?.offer ?? null };
  }

  setVetStatus(vetId: number, status: VetChosenStatus, now: number): Promise<VetRelease> {
    const vet = this.vets.get(vetId);
    if (!vet) return Promise.resolve({ presence: null, released: null, offer: null });
    let r: ReleasedOffer | null = null;
    if (status === "available" && vet.status !== "available") vet.idleSince = now;
    if (status === "away" && vet.offerConsultationId) {
      r = this.release(vet.offerConsultationId, vetId, false); // outcome away
    }
    vet.status = status;
    return Promise.resolve({ presence: clone(vet), released: r?.consultation ?? null, offer: r?.offer ?? null });
  }

  setVetSkills(vetId: number, skills: VetSkills): Promise<void> {
    // Unknown: created offline; `idleSince` is reset when the vet comes online.
    takeSkills(this.vetOrNew(vetId, 0), skills);
    return Promise.resolve();
  }

  endWrapup(vetId: number, now: number): Promise<VetPresence | null> {
    const vet = this.vets.get(vetId);
    if (!vet) return Promise.resolve(null);
    if (vet.wrapupUntil !== null) {
      vet.wrapupUntil = null;
      vet.wrapupConsultationId = null;
      vet.idleSince = now;
      this.deadlines.delete("wrapup", String(vetId));
    }
    return Promise.resolve(clone(vet));
  }

  getVet(vetId: number): Promise<VetPresence | null> {
    const vet = this.vets.get(vetId);
    return Promise.resolve(vet ? clone(vet) : null);
  }

  addUserConnection(appId: number, userId: number, connId: string, nodeId: string): Promise<number> {
    return Promise.resolve(this.connections.addUser(appId, userId, connId, nodeId));
  }

  userConnectionCount(appId: number, userId: number): Promise<number> {
    return Promise.resolve(this.connections.userCount(appId, userId));
  }

  removeUserConnection(appId: number, userId: number, connId: string): Promise<number> {
    return Promise.resolve(this.connections.removeUser(appId, userId, connId));
  }

  findOpenByUser(appId: number, userId: number): Promise<LiveConsultation | null> {
    const id = this.userOpen.get(userKey(appId, userId));
    const c = id ? this.consultations.get(id) : undefined;
    return Promise.resolve(c ? clone(c) : null);
  }

  enqueue(input: NewLiveConsultation, maxQueuedPerApp = 0, priorityAgingMs = 0): Promise<EnqueueResult> {
    const key = userKey(input.appId, input.userId);
    const existingId = this.userOpen.get(key);
    const existing = existingId ? this.consultations.get(existingId) : undefined;
    if (existing) {
      const position =
        existing.status === "active" ? 0 : this.servingPosition(existing, input.createdAt, priorityAgingMs);
      return Promise.resolve({ created: false, consultation: clone(existing), position });
    }
    if (maxQueuedPerApp > 0 && this.waitingOfApp(input.appId, maxQueuedPerApp) >= maxQueuedPerApp) {
      return Promise.reject(new AppQueueFullError(input.appId));
    }
    const c: LiveConsultation = { ...clone(input), seq: ++this.seq, status: "queued", offer: null };
    this.consultations.set(c.id, c);
    this.userOpen.set(key, c.id);
    this.waiting.add(c.id);
    this.deadlines.set("queue", c.id, c.queueDeadline);
    if (c.careDeadline) this.deadlines.set("license", c.id, c.careDeadline);
    return Promise.resolve({
      created: true,
      consultation: clone(c),
      position: this.servingPosition(c, c.createdAt, priorityAgingMs),
    });
  }

  /** Consultations of `appId` queued or offered, counted up to `limit` (O(open consultations)). */
  private waitingOfApp(appId: number, limit: number): number {
    let n = 0;
    for (const c of this.consultations.values()) {
      if (c.appId === appId && (c.status === "queued" || c.status === "offered") && ++n >= limit) break;
    }
    return n;
  }

  assignDirect(input: NewLiveConsultation, vetId: number, now: number, rules: RoutingRules): Promise<AssignResult> {
    const key = userKey(input.appId, input.userId);
    const existingId = this.userOpen.get(key);
    const existing = existingId ? this.consultations.get(existingId) : undefined;
    if (existing) return Promise.resolve({ ok: false, reason: "user_has_open", existing: clone(existing) });
    const vet = this.vets.get(vetId);
    if (!vet || !canTake(vet, { ...input, seq: 0 }, now, rules, { ignoreLanguage: true })) {
      return Promise.resolve({ ok: false, reason: "vet_not_eligible" });
    }
    const c: LiveConsultation = {
      ...clone(input),
      seq: ++this.seq,
      status: "active",
      offer: null,
      vetId,
      acceptedAt: now,
    };
    this.consultations.set(c.id, c);
    this.userOpen.set(key, c.id);
    holdActive(vet, c);
    return Promise.resolve({ ok: true, consultation: clone(c) });
  }

  getConsultation(id: string): Promise<LiveConsultation | null> {
    const c = this.consultations.get(id);
    return Promise.resolve(c ? clone(c) : null);
  }

  setCare(id: string, care: Care): Promise<LiveConsultation | null> {
    const c = this.consultations.get(id);
    if (!c) return Promise.resolve(null);
    c.care = care;
    c.careDeadline = null;
    this.deadlines.delete("license", id);
    return Promise.resolve(clone(c));
  }

  claimOffer(
    consultationId: string,
    vetId: number,
    now: number,
    expiresAt: number,
    rules: RoutingRules,
  ): Promise<ClaimResult> {
    const c = this.consultations.get(consultationId);
    if (!c || c.status !== "queued" || c.offer)
      return Promise.resolve({ ok: false, reason: "consultation_not_queued" });
    const vet = this.vets.get(vetId);
    if (!vet || !isEligible(vet, rules.maxConsults)) return Promise.resolve({ ok: false, reason: "vet_not_eligible" });
    if (c.excludedVetIds.includes(vetId)) return Promise.resolve({ ok: false, reason: "vet_excluded" });
    const asked = (r: LiveConsultation) => ({ ignoreLanguage: r.requestedVetId === vetId });
    if (!canTake(vet, c, now, rules, asked(c))) return Promise.resolve({ ok: false, reason: "vet_not_eligible" });
    const order = queueComparator(now, rules.priorityAgingMs);
    for (const other of this.headOf([vet]).head) {
      if (other !== c && order(other, c) < 0 && canTake(vet, other, now, rules, asked(other))) {
        return Promise.resolve({ ok: false, reason: "out_of_order" });
      }
    }
    c.status = "offered";
    c.offer = { vetId, offeredAt: now, expiresAt };
    this.waiting.delete(c.id);
    vet.offerConsultationId = c.id;
    this.deadlines.set("offer", c.id, expiresAt);
    return Promise.resolve({ ok: true, consultation: clone(c) });
  }

  acceptOffer(consultationId: string, vetId: number, now: number, channelSid?: string): Promise<AcceptResult> {
    const c = this.consultations.get(consultationId);
    if (c && c.status === "active" && c.vetId === vetId) {
      return Promise.resolve({ ok: true, consultation: clone(c), alreadyActive: true });
    }
    if (!c || c.status !== "offered" || c.offer?.vetId !== vetId)
      return Promise.resolve({ ok: false, reason: "no_offer" });
    if (c.offer.expiresAt <= now) return Promise.resolve({ ok: false, reason: "expired" });
    const vet = this.vets.get(vetId);
    if (!vet) return Promise.resolve({ ok: false, reason: "no_offer" });
    if (c.referralOf) return Promise.resolve(acceptReferral(this.referrals, c, vet, now));
    const offer = c.offer;
    c.status = "active";
    c.offer = null;
    c.vetId = vetId;
    c.acceptedAt = now;
    if (channelSid !== undefined && !c.channelSid) c.channelSid = channelSid;
    vet.offerConsultationId = null;
    holdActive(vet, c);
    this.deadlines.delete("offer", c.id);
    this.deadlines.delete("queue", c.id);
    this.deadlines.delete("grace", c.id);
    // Taken: its care is settled (an undone accept does not bring the advice fallback back).
    c.careDeadline = null;
    this.deadlines.delete("license", c.id);
    return Promise.resolve({ ok: true, consultation: clone(c), alreadyActive: false, offer: clone(offer) });
  }

  revertAccept(consultationId: string, vetId: number, offer: HeldOffer): Promise<"offered" | "queued" | null> {
    return Promise.resolve(revertAccept(this.referrals, consultationId, vetId, offer));
  }

  restore(input: LiveConsultation): Promise<boolean> {
    if (this.consultations.has(input.id)) return Promise.resolve(false);
    const key = userKey(input.appId, input.userId);
    const other = this.userOpen.get(key);
    if (other !== undefined && this.consultations.has(other)) return Promise.resolve(false);
    const c = clone(input);
    if (c.status !== "active" || c.vetId === null) {
      c.status = "queued";
      c.offer = null;
    }
    this.seq = Math.max(this.seq, c.seq);
    this.consultations.set(c.id, c);
    this.userOpen.set(key, c.id);
    if (c.status === "active") {
      const vet = this.vetOrNew(c.vetId!, c.acceptedAt ?? c.createdAt);
      if (!vet.activeConsultationIds.includes(c.id)) holdActive(vet, c);
    } else {
      this.waiting.add(c.id);
      this.deadlines.set("queue", c.id, c.queueDeadline);
      if (c.careDeadline) this.deadlines.set("license", c.id, c.careDeadline);
    }
    return Promise.resolve(true);
  }

  releaseOffer(consultationId: string, vetId: number, opts: { setAway?: boolean } = {}): Promise<ReleasedOffer | null> {
    return Promise.resolve(this.release(consultationId, vetId, opts.setAway ?? false));
  }

  /** Returns the consultation to the queue with the vet excluded; null if the vet holds no such offer. */
  private release(consultationId: string, vetId: number, setAway: boolean): ReleasedOffer | null {
    const c = this.consultations.get(consultationId);
    if (!c || c.status !== "offered" || c.offer?.vetId !== vetId) return null;
    const offer = { ...c.offer };
    c.status = "queued";
    c.offer = null;
    this.waiting.add(c.id);
    if (!c.excludedVetIds.includes(vetId)) c.excludedVetIds.push(vetId);
    this.deadlines.delete("offer", c.id);
    const vet = this.vets.get(vetId);
    if (vet) {
      vet.offerConsultationId = null;
      if (setAway) vet.status = "away";
    }
    return { consultation: clone(c), offer };
  }

  updateSids(
    consultationId: string,
    sids: { channelSid?: string; roomSid?: string },
  ): Promise<LiveConsultation | null> {
    const c = this.consultations.get(consultationId);
    if (!c) return Promise.resolve(null);
    if (sids.channelSid !== undefined) c.channelSid = sids.channelSid;
    if (sids.roomSid !== undefined) c.roomSid = sids.roomSid;
    return Promise.resolve(clone(c));
  }

  finish(consultationId: string, now: number, wrapupUntil: number | null): Promise<FinishResult | null> {
    const c = this.consultations.get(consultationId);
    if (!c) return Promise.resolve(null);
    const before = clone(c);
    let revokedOfferVetId: number | null = null;
    if (c.offer) {
      revokedOfferVetId = c.offer.vetId;
      const holder = this.vets.get(c.offer.vetId);
      if (holder?.offerConsultationId === c.id) holder.offerConsultationId = null;
    }
    if (c.status === "active" && c.vetId !== null) {
      const vet = this.vets.get(c.vetId);
      if (vet) {
        dropActive(vet, c);
        if (wrapupUntil === null) {
          if (vet.activeConsultationIds.length === 0 && vet.wrapupUntil === null) vet.idleSince = now;
        } else {
          vet.wrapupUntil = Math.max(vet.wrapupUntil ?? 0, wrapupUntil);
          vet.wrapupConsultationId = c.id;
          this.deadlines.set("wrapup", String(vet.vetId), vet.wrapupUntil);
        }
      }
      const leaving = c.leavingVetId != null ? this.vets.get(c.leavingVetId) : undefined;
      if (leaving) release(leaving, c, now);
    }
    for (const kind of ["offer", "queue", "grace", "license"] as const) this.deadlines.delete(kind, c.id);
    this.consultations.delete(c.id);
    this.waiting.delete(c.id);
    const key = userKey(c.appId, c.userId);
    if (this.userOpen.get(key) === c.id) this.userOpen.delete(key);
    return Promise.resolve({ consultation: before, revokedOfferVetId, waiting: this.waiting.size });
  }

  restoreWrapup(vetId: number, consultationId: string, until: number): Promise<boolean> {
    const vet = this.vetOrNew(vetId, until);
    if (vet.wrapupUntil !== null && vet.wrapupUntil >= until) return Promise.resolve(false);
    vet.wrapupUntil = until;
    vet.wrapupConsultationId = consultationId;
    this.deadlines.set("wrapup", String(vetId), until);
    return Promise.resolve(true);
  }

  liveEpoch(): Promise<string | null> {
    return Promise.resolve(this.rebuild.liveEpoch());
  }

  claimRebuild(token: string, ttlMs: number): Promise<boolean> {
    return Promise.resolve(this.rebuild.claim(token, ttlMs));
  }

  setLiveEpoch(epoch: string, token: string): Promise<boolean> {
    return Promise.resolve(this.rebuild.setLiveEpoch(epoch, token));
  }

  transfer(
    consultationId: string,
    now: number,
    queueDeadline: number,
    opts: { ifVetOffline?: boolean } = {},
  ): Promise<TransferResult | null> {
    const c = this.consultations.get(consultationId);
    if (opts.ifVetOffline && c?.vetId != null && this.connections.vetCount(c.vetId) > 0) return Promise.resolve(null);
    return Promise.resolve(transfer(this.referrals, consultationId, now, queueDeadline));
  }

  requestReferral(id: string, referral: Referral): Promise<ReferralRequestResult> {
    return Promise.resolve(requestReferral(this.referrals, id, referral));
  }

  endReferral(id: string): Promise<EndedReferral | null> {
    return Promise.resolve(endReferral(this.referrals, id));
  }

  leaveConsultation(id: string, vetId: number, now: number): Promise<LeaveResult | null> {
    return Promise.resolve(leaveConsultation(this.referrals, id, vetId, now));
  }

  revertReferral(
    id: string,
    vetId: number,
    referral: Referral,
    offer: HeldOffer,
    now: number,
  ): Promise<"offered" | "queued" | null> {
    return Promise.resolve(revertReferral(this.referrals, id, vetId, referral, offer, now));
  }

  addDeadline(kind: DeadlineKind, ref: string, at: number): Promise<void> {
    this.deadlines.set(kind, ref, at);
    return Promise.resolve();
  }

  removeDeadline(kind: DeadlineKind, ref: string): Promise<void> {
    this.deadlines.delete(kind, ref);
    return Promise.resolve();
  }

  claimDue(now: number, limit: number): Promise<Deadline[]> {
    return Promise.resolve(this.deadlines.claimDue(now, limit));
  }

  snapshot(): Promise<RoutingSnapshot> {
    const queue = [...this.consultations.values()].filter((c) => c.status !== "active").sort(queueOrder);
    return Promise.resolve(snapshotOf(queue, this.vets.values()));
  }

  knownVets(): Promise<VetPresence[]> {
    return Promise.resolve(snapshotOf([], this.vets.values()).vets);
  }

  headSnapshot(maxConsults: number, include: readonly string[] = []): Promise<RoutingSnapshot> {
    const free = [...this.vets.values()].filter((v) => isEligible(v, maxConsults));
    const { head, truncated } = this.headOf(free);
    const all = new Set(head);
    for (const id of include) {
      const c = this.consultations.get(id);
      if (c && this.waiting.has(id)) all.add(c);
    }
    return Promise.resolve({
      ...snapshotOf(
        [...all].sort((x, y) => x.seq - y.seq),
        this.vets.values(),
      ),
      truncated,
    });
  }

  /** The head of the queue for `vets` (see {@link RoutingStore.headSnapshot}). */
  private headOf(vets: readonly VetPresence[]): { head: LiveConsultation[]; truncated: boolean } {
    return queueHead(waitingOf(this.consultations, this.waiting), vets);
  }

  close(): Promise<void> {
    return Promise.resolve();
  }

  private vetOrNew(vetId: number, now: number): VetPresence {
    let vet = this.vets.get(vetId);
    if (!vet) this.vets.set(vetId, (vet = offlineVet(vetId, now)));
    return vet;
  }

  /** 1-based place in serving order at `now` (class after aging, then arrival). */
  private servingPosition(c: LiveConsultation, now: number, agingMs: number): number {
    return placeAmong(this.consultations.values(), c, queueComparator(now, agingMs));
  }
}

function clone<T>(v: T): T {
  return structuredClone(v);
}
