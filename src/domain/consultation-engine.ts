/**
 * The consultation engine: routing (PROTOCOL §4) and the consultation lifecycle
 * queued → offered → active → ended | cancelled | expired.
 *
 * Plain domain code: it knows nothing of Socket.IO or Express. Time comes from the injected
 * clock and deadlines fire only when {@link ConsultationEngine.tick} runs, so unit tests
 * drive every rule without sleeping. Shared state lives in the {@link RoutingStore}, whose
 * atomic steps keep a consultation with one vet and a vet with one offer, across nodes.
 */
import { randomUUID } from "node:crypto";
import type { Config } from "../config.js";
import { AppError, notFound } from "../lib/envelope.js";
import type { Clock } from "../lib/clock.js";
import { KeyedSerialQueue } from "../lib/keyed-queue.js";
import type { Logger } from "../lib/logger.js";
import type {
  CallStatus,
  FeedbackPayload,
  MatchedPayload,
  OfferRevokedReason,
  StatePayload,
  VetConsultationPayload,
} from "../protocol/events.js";
import type { TwilioProvider } from "./ports.js";
import { chooseVet, eligibleVets, planOffers } from "./planner.js";
import type { Directory, Ledger, Notifier, TokenMinter } from "./ports.js";
import type { NodeCleanup, RoutingStore } from "./routing-store.js";
import type {
  ConsultationType,
  Deadline,
  EndedBy,
  LiveConsultation,
  OfferOutcome,
  VetCard,
  VetChosenStatus,
  VetPresence,
} from "./types.js";

export type RoutingConfig = Config["routing"];

/** Optional observation hooks (metrics). */
export interface EngineObserver {
  matched?(waitMs: number): void;
  offer?(outcome: OfferOutcome | "offered"): void;
  finished?(status: "ended" | "cancelled" | "expired"): void;
}

export interface EngineDeps {
  store: RoutingStore;
  ledger: Ledger;
  notifier: Notifier;
  directory: Directory;
  tokens: TokenMinter;
  twilio: TwilioProvider;
  clock: Clock;
  logger: Logger;
  nodeId: string;
  routing: RoutingConfig;
  observer?: EngineObserver;
  newId?: () => string;
  /**
   * Called when a heartbeat finds this node was reaped (it paused longer than
   * `PRESENCE_TTL_MS`): its connections left routing, so its sockets must reconnect.
   */
  onNodeReaped?: () => void;
}

/** What `request` answers. */
export interface RequestResult {
  consultation_id: string;
  status: "queued" | "offered" | "active";
  position: number;
}

/** What talk-to-vet needs to build its REST answer. */
export interface DirectAssignment {
  consultation: LiveConsultation;
  vet: VetCard;
  identity: string;
  twilioToken: string;
}

// Estimated handling time of one consultation before any has been observed.
const DEFAULT_HANDLE_S = 300;
const PUMP_ROUNDS = 4;
const DUE_BATCH = 200;

export class ConsultationEngine {
  private readonly store: RoutingStore;
  private readonly d: EngineDeps;
  private readonly writes: KeyedSerialQueue;
  private readonly newId: () => string;
  private pumping: Promise<void> | null = null;
  private pumpAgain = false;
  private lastHeartbeat = 0;
  /** Requests left the queue since positions were last sent. */
  private positionsChanged = false;
  /** The place this node last told each queued owner. */
  private readonly sentPositions = new Map<string, number>();
  /** Vets as of the latest routing pass, for wait estimates without another read. */
  private lastVets: VetPresence[] = [];
  /** Exponential moving average of consultation length, for `estimated_wait_s`. */
  private handleS = DEFAULT_HANDLE_S;

  constructor(deps: EngineDeps) {
    this.d = deps;
    this.store = deps.store;
    this.newId = deps.newId ?? randomUUID;
    this.writes = new KeyedSerialQueue((err, key) =>
      deps.logger.error({ err, consultationId: key }, "consultation history write failed"),
    );
  }

  private get cfg(): RoutingConfig {
    return this.d.routing;
  }

  private now(): number {
    return this.d.clock.now();
  }

  /** Queues a history write for a consultation without waiting for it. */
  private record(id: string, job: (ledger: Ledger) => Promise<unknown>): void {
    void this.writes.run(id, () => job(this.d.ledger));
  }

  /** Queues a history write and waits until it (and earlier ones of that consultation) landed. */
  private recordNow(id: string, job: (ledger: Ledger) => Promise<unknown>): Promise<void> {
    return this.writes.run(id, () => job(this.d.ledger));
  }

  // ------------------------------------------------------------------ vets

  /** A vet socket connected. */
  async vetConnected(vetId: number, connId: string): Promise<VetPresence> {
    return this.store.addVetConnection(vetId, connId, this.d.nodeId, this.now());
  }

  /** A vet socket disconnected: its offer goes to the next vet when it was the last connection. */
  async vetDisconnected(vetId: number, connId: string): Promise<void> {
    const { released } = await this.store.removeVetConnection(vetId, connId, this.now());
    if (released) {
      this.offerEnded(released.id, vetId, "disconnected");
      await this.pump();
    }
  }

  /** `presence:set`. */
  async setVetStatus(vetId: number, status: VetChosenStatus): Promise<{ status: VetChosenStatus }> {
    const { presence, released } = await this.store.setVetStatus(vetId, status, this.now());
    if (!presence) throw new AppError(409, "The vet is not connected.");
    if (released) {
      this.offerEnded(released.id, vetId, "away");
      this.d.notifier.toVet(vetId, "consult:offer_revoked", { consultation_id: released.id, reason: "cancelled" });
    }
    if (status === "available" || released) await this.pump();
    return { status: presence.status };
  }

  // ------------------------------------------------------------------ users

  /** A user socket connected; returns the open consultation to resume, if any. */
  async userConnected(appId: number, userId: number, connId: string): Promise<StatePayload | null> {
    await this.store.addUserConnection(appId, userId, connId, this.d.nodeId);
    const open = await this.store.findOpenByUser(appId, userId);
    if (!open) return null;
    await this.store.removeDeadline("grace", open.id);
    return this.statePayload(open);
  }

  /** A user socket disconnected: when it was the last, a queued request gets `USER_GRACE_MS`. */
  async userDisconnected(appId: number, userId: number, connId: string): Promise<void> {
    const remaining = await this.store.removeUserConnection(appId, userId, connId);
    if (remaining === 0) await this.startGrace(appId, userId);
  }

  private async startGrace(appId: number, userId: number): Promise<void> {
    const open = await this.store.findOpenByUser(appId, userId);
    if (!open || open.status === "active") return;
    if (this.cfg.userGraceMs === 0) await this.close(open.id, "cancelled", { reason: "user_gone" });
    else await this.store.addDeadline("grace", open.id, this.now() + this.cfg.userGraceMs);
  }

  /**
   * `consult:request`: queues a consultation, or returns the user's open one. The request
   * is written to history before it becomes visible to routing on any node.
   */
  async request(input: {
    appId: number;
    userId: number;
    petId: number;
    type: ConsultationType;
    doctorEmail?: string | undefined;
  }): Promise<RequestResult> {
    // Independent reads, run together: the user's open consultation and the request profile.
    const [open, built] = await Promise.allSettled([
      this.store.findOpenByUser(input.appId, input.userId),
      this.newConsultation(input, "queued"),
    ]);
    if (open.status === "rejected") throw open.reason;
    if (open.value) return this.requestResult(open.value);
    if (built.status === "rejected") throw built.reason;
    const fresh = built.value;
    await this.d.ledger.create(fresh, "socket");
    const { created, consultation, position } = await this.store.enqueue(fresh);
    if (!created) {
      // Lost a race with a second request of the same user: keep one, close the other.
      this.record(fresh.id, (l) => l.transition(fresh.id, "cancelled", this.now(), { endReason: "duplicate" }));
      return this.requestResult(consultation);
    }
    this.sentPositions.set(consultation.id, position);
    this.d.notifier.toUser(input.appId, input.userId, "consult:queued", {
      consultation_id: consultation.id,
      position,
      estimated_wait_s: this.estimateWait(position, this.lastVets),
    });
    await this.pump();
    return { consultation_id: consultation.id, status: "queued", position };
  }

  private async requestResult(c: LiveConsultation): Promise<RequestResult> {
    const position = c.status === "active" ? 0 : (await this.positionOf(c.id)).position;
    return { consultation_id: c.id, status: c.status, position };
  }

  private async newConsultation(
    input: { appId: number; userId: number; petId: number; type: ConsultationType; doctorEmail?: string | undefined },
    status: "queued" | "active",
  ): Promise<LiveConsultation> {
    const profile = await this.d.directory.requestProfile(input.appId, input.userId, input.petId);
    if ("missing" in profile) throw notFound(profile.missing === "user" ? "User not found" : "Pet not found");
    const requestedVetId = input.doctorEmail ? await this.d.directory.vetIdByEmail(input.doctorEmail) : null;
    const now = this.now();
    return {
      id: this.newId(),
      appId: input.appId,
      userId: input.userId,
      petId: input.petId,
      type: input.type,
      status,
      seq: 0,
      createdAt: now,
      queueDeadline: now + this.cfg.queueTimeoutMs,
      requestedVetId,
      offer: null,
      excludedVetIds: [],
      vetId: null,
      acceptedAt: null,
      channelSid: null,
      roomSid: null,
      profile,
    };
  }

  /** `consult:cancel` by the owner (queued or offered only). */
  async cancel(appId: number, userId: number, consultationId: string): Promise<void> {
    const c = await this.ownedLive(appId, userId, consultationId);
    if (!c) {
      await this.ownedRecord(appId, userId, consultationId);
      return; // already closed: idempotent
    }
    if (c.status === "active") throw new AppError(409, "The consultation is active; end it instead.");
    await this.close(c.id, "cancelled", { endedBy: "user" });
  }

  /** `consult:end` by the owner; a request not yet active is cancelled. Idempotent. */
  async endByUser(appId: number, userId: number, consultationId: string): Promise<void> {
    const c = await this.ownedLive(appId, userId, consultationId);
    if (!c) {
      await this.ownedRecord(appId, userId, consultationId);
      return;
    }
    await this.close(c.id, c.status === "active" ? "ended" : "cancelled", { endedBy: "user" });
  }

  /** REST `end` by channel SID: idempotent, 404 when no consultation of this app has it. */
  async endByChannel(appId: number, channelSid: string): Promise<void> {
    const rec = await this.d.ledger.findByChannel(appId, channelSid);
    if (!rec) throw notFound("Consultation not found");
    const live = await this.store.getConsultation(rec.id);
    if (live) await this.close(live.id, live.status === "active" ? "ended" : "cancelled", { endedBy: "user" });
  }

  private async ownedLive(appId: number, userId: number, id: string): Promise<LiveConsultation | null> {
    const c = await this.store.getConsultation(id);
    if (c && (c.appId !== appId || c.userId !== userId)) throw notFound("Consultation not found");
    return c;
  }

  private async ownedRecord(appId: number, userId: number, id: string): Promise<void> {
    const rec = await this.d.ledger.get(id);
    if (!rec || rec.appId !== appId || rec.userId !== userId) throw notFound("Consultation not found");
  }

  // ------------------------------------------------------------------ offers

  /** `consult:accept`: the consultation becomes active with this vet; the owner is told. */
  async accept(vetId: number, consultationId: string): Promise<VetConsultationPayload> {
    const now = this.now();
    // Offline SIDs have no outside effect: made up front, stored by the accept step itself.
    const r = await this.store.acceptOffer(consultationId, vetId, now, this.d.twilio.localConversationSid?.());
    if (!r.ok) {
      throw new AppError(409, r.reason === "expired" ? "The offer has expired." : "The offer is no longer available.");
    }
    let c = r.consultation;
    if (r.alreadyActive) {
      c = await this.ensureConversation(c);
    } else {
      this.d.observer?.offer?.("accepted");
      this.d.observer?.matched?.(now - c.createdAt);
      this.positionsChanged = true;
      // History is written behind the match (nothing here waits for PostgreSQL). Twilio
      // failures surface as 502; the consultation stays active and a repeated accept
      // (idempotent) retries the Conversation.
      const accepted = c;
      try {
        c = await this.ensureConversation(c, false);
      } finally {
        const channelSid = c.channelSid ?? undefined;
        // One write: the offer's outcome, the transition, the vet and the channel.
        this.record(c.id, (l) =>
          l.transition(accepted.id, "active", now, {
            vetId,
            resolvedOffer: { vetId, outcome: "accepted" },
            ...(channelSid ? { channelSid } : {}),
          }),
        );
      }
    }
    const { user, vet } = await this.matchedPayloads(c);
    this.d.notifier.toUser(c.appId, c.userId, "consult:matched", user);
    return vet;
  }

  /** `consult:decline`: the next vet is offered at once. */
  async decline(vetId: number, consultationId: string): Promise<void> {
    const released = await this.store.releaseOffer(consultationId, vetId);
    if (!released) throw new AppError(409, "The offer is no longer available.");
    this.offerEnded(consultationId, vetId, "declined");
    await this.pump();
  }

  private offerEnded(consultationId: string, vetId: number, outcome: OfferOutcome): void {
    const at = this.now();
    this.d.observer?.offer?.(outcome);
    const requeued = outcome !== "accepted" && outcome !== "cancelled" && outcome !== "expired";
    this.record(consultationId, (l) => l.offerEnded(consultationId, vetId, outcome, at, requeued));
  }

  /**
   * One routing pass on this node: plan offers from a snapshot and claim them. Passes are
   * serialised per node; a pass requested while one runs makes it run once more.
   */
  pump(): Promise<void> {
    if (this.pumping) {
      this.pumpAgain = true;
      return this.pumping;
    }
    this.pumping = (async () => {
      try {
        do {
          this.pumpAgain = false;
          await this.pumpOnce();
        } while (this.pumpAgain);
      } finally {
        this.pumping = null;
      }
    })();
    return this.pumping;
  }

  private async pumpOnce(): Promise<void> {
    for (let round = 0; round < PUMP_ROUNDS; round++) {
      const snapshot = await this.store.snapshot();
      this.lastVets = snapshot.vets;
      const plan = planOffers(snapshot, this.cfg.vetMaxConsults);
      if (plan.length === 0) return;
      const now = this.now();
      const expiresAt = now + this.cfg.offerTimeoutMs;
      const results = await Promise.all(
        plan.map((p) => this.store.claimOffer(p.consultationId, p.vetId, now, expiresAt, this.cfg.vetMaxConsults)),
      );
      let lost = false;
      results.forEach((r, i) => {
        const p = plan[i];
        if (!r.ok) {
          lost = true;
          return;
        }
        const c = r.consultation;
        this.d.notifier.toVet(p.vetId, "consult:offer", {
          consultation_id: c.id,
          type: c.type,
          user: c.profile.user,
          pet: c.profile.pet,
          requested: p.requested,
          expires_at: new Date(expiresAt).toISOString(),
        });
        this.d.observer?.offer?.("offered");
        this.record(c.id, (l) => l.offerMade(c.id, p.vetId, now, expiresAt, p.requested));
      });
      // Another node changed the state under this plan: plan again from fresh state.
      if (!lost) return;
    }
  }

  // ------------------------------------------------------------------ lifecycle

  /** `consult:end` by the assigned vet. Idempotent once ended. */
  async endByVet(vetId: number, consultationId: string): Promise<void> {
    const c = await this.store.getConsultation(consultationId);
    if (c) {
      if (c.vetId !== vetId) throw notFound("Consultation not found");
      await this.close(c.id, "ended", { endedBy: "vet" });
      return;
    }
    const rec = await this.d.ledger.get(consultationId);
    if (!rec || rec.vetId !== vetId) throw notFound("Consultation not found");
  }

  /**
   * Closes an open consultation for good and tells everyone concerned. The final status is
   * written before anyone is told, so a follow-up (feedback, REST lookups) on any node sees it.
   */
  private async close(
    id: string,
    status: "ended" | "cancelled" | "expired",
    opts: { endedBy?: EndedBy; reason?: string } = {},
  ): Promise<boolean> {
    const now = this.now();
    // The store applies wrap-up only when the consultation was active.
    const finished = await this.store.finish(id, now, this.cfg.wrapupMs > 0 ? now + this.cfg.wrapupMs : null);
    if (!finished) return false;
    const c = finished.consultation;
    const final = c.status === "active" ? "ended" : status === "ended" ? "cancelled" : status;
    // Vet and SIDs ride along: an accept written behind on another node may land later.
    await this.recordNow(c.id, (l) =>
      l.transition(c.id, final, now, {
        ...(c.vetId !== null ? { vetId: c.vetId } : {}),
        ...(c.channelSid ? { channelSid: c.channelSid } : {}),
        ...(c.roomSid ? { roomSid: c.roomSid } : {}),
        ...(opts.endedBy ? { endedBy: opts.endedBy } : {}),
        ...(opts.reason ? { endReason: opts.reason } : {}),
      }),
    );
    this.d.observer?.finished?.(final);

    if (finished.revokedOfferVetId !== null) {
      const reason: OfferRevokedReason = final === "expired" ? "timeout" : "cancelled";
      this.offerEnded(c.id, finished.revokedOfferVetId, final === "expired" ? "expired" : "cancelled");
      this.d.notifier.toVet(finished.revokedOfferVetId, "consult:offer_revoked", { consultation_id: c.id, reason });
    }
    if (final === "ended") {
      const ended = { consultation_id: c.id, ended_by: opts.endedBy ?? "system", ...(opts.reason ? { reason: opts.reason } : {}) };
      this.d.notifier.toUser(c.appId, c.userId, "consult:ended", ended);
      if (c.vetId !== null) this.d.notifier.toVet(c.vetId, "consult:ended", ended);
      if (c.acceptedAt !== null) this.observeHandle(now - c.acceptedAt);
      this.closeTwilio(c);
    } else if (final === "expired") {
      this.d.notifier.toUser(c.appId, c.userId, "consult:expired", { consultation_id: c.id });
    } else if (opts.endedBy !== "user") {
      this.d.notifier.toUser(c.appId, c.userId, "consult:ended", {
        consultation_id: c.id,
        ended_by: "system",
        reason: opts.reason ?? "cancelled",
      });
    }
    if (c.status !== "active") this.positionsChanged = true;
    // A freed vet or queue place matters only to requests still waiting for an offer.
    if (finished.waiting > 0) await this.pump();
    return true;
  }

  /** Closes Twilio resources in the background: the consultation is over either way. */
  private closeTwilio(c: LiveConsultation): void {
    const log = this.d.logger;
    if (c.channelSid) {
      this.d.twilio
        .closeConversation(c.channelSid)
        .catch((err: unknown) => log.warn({ err, consultationId: c.id }, "closing the conversation failed"));
    }
    if (c.roomSid) {
      this.d.twilio
        .completeRoom(c.roomSid)
        .catch((err: unknown) => log.warn({ err, consultationId: c.id }, "completing the room failed"));
    }
  }

  private observeHandle(ms: number): void {
    this.handleS = this.handleS * 0.9 + (ms / 1000) * 0.1;
  }

  /**
   * `consult:feedback`: stored (a later one replaces it), relayed to the owner, and ends the
   * vet's wrap-up for this consultation.
   */
  async submitFeedback(vetId: number, consultationId: string, recommendation: string, reason: string): Promise<void> {
    const live = await this.store.getConsultation(consultationId);
    let type: ConsultationType;
    let appId: number;
    let userId: number;
    if (live) {
      if (live.vetId !== vetId) throw notFound("Consultation not found");
      if (live.status !== "active") throw new AppError(409, "The consultation has not started.");
      ({ type, appId, userId } = live);
    } else {
      const rec = await this.d.ledger.get(consultationId);
      if (!rec || rec.vetId !== vetId) throw notFound("Consultation not found");
      if (rec.status !== "ended" && rec.status !== "active") throw new AppError(409, "The consultation has not started.");
      ({ type, appId, userId } = rec);
    }
    const at = this.now();
    await this.recordNow(consultationId, (l) => l.saveFeedback(consultationId, vetId, recommendation, reason, at));
    const vet = await this.d.directory.vet(vetId);
    this.d.notifier.toUser(appId, userId, "consult:feedback", {
      consultation_id: consultationId,
      type,
      vet_first_name: vet?.firstName ?? "",
      vet_last_name: vet?.lastName ?? "",
      recommendation,
      reason,
      feedback_date: new Date(at).toISOString(),
    });
    const presence = await this.store.getVet(vetId);
    if (presence?.wrapupConsultationId === consultationId) {
      await this.store.endWrapup(vetId, this.now());
      await this.pump();
    }
  }

  /** REST `feedback`: by channel SID (chat) or room SID (video); 404 when none yet. */
  async feedbackFor(appId: number, by: { channelSid: string } | { roomSid: string }): Promise<Omit<FeedbackPayload, "consultation_id">> {
    const rec =
      "channelSid" in by
        ? await this.d.ledger.findByChannel(appId, by.channelSid)
        : await this.d.ledger.findByRoom(appId, by.roomSid);
    if (!rec) throw notFound("Consultation not found");
    const fb = await this.d.ledger.findFeedback(rec.id);
    if (!fb) throw notFound("Feedback not found");
    return {
      type: fb.type,
      vet_first_name: fb.vetFirstName,
      vet_last_name: fb.vetLastName,
      recommendation: fb.recommendation,
      reason: fb.reason,
      feedback_date: fb.updatedAt.toISOString(),
    };
  }

  // ------------------------------------------------------------------ video

  /** `call:start` (video): creates the room once, rings the owner, returns the vet's room token. */
  async startCall(vetId: number, consultationId: string): Promise<{ room_sid: string; twilioToken: string }> {
    let c = await this.store.getConsultation(consultationId);
    if (!c || c.vetId !== vetId) throw notFound("Consultation not found");
    if (c.status !== "active") throw new AppError(409, "The consultation is not active.");
    if (c.type !== "video") throw new AppError(422, "The consultation is not a video consultation.");
    if (!c.roomSid) {
      const { sid } = await this.d.twilio.createRoom({ uniqueName: c.id });
      c = (await this.store.updateSids(c.id, { roomSid: sid })) ?? { ...c, roomSid: sid };
      // Awaited: the owner's answer is looked up by room SID, possibly on another node.
      await this.recordNow(c.id, (l) => l.setSids(consultationId, { roomSid: sid }));
    }
    const roomSid = c.roomSid!;
    const vet = await this.vetCard(vetId);
    const userToken = this.d.tokens.forUser(c.appId, c.userId, roomSid);
    this.d.notifier.toUser(c.appId, c.userId, "call:incoming", {
      consultation_id: c.id,
      room_sid: roomSid,
      vet,
      twilioToken: userToken.token,
    });
    return { room_sid: roomSid, twilioToken: this.d.tokens.forVet(vetId, roomSid).token };
  }

  /**
   * The owner's answer to a call (`call:status` on `/user`, or REST `video-call-action`),
   * relayed to the vet. With `userId` the room must belong to that user.
   */
  async relayCallStatus(appId: number, userId: number | null, roomSid: string, status: CallStatus): Promise<void> {
    const rec = await this.d.ledger.findByRoom(appId, roomSid);
    const live = rec ? await this.store.getConsultation(rec.id) : null;
    const c = live && live.roomSid === roomSid ? live : null;
    if (!c || (userId !== null && c.userId !== userId) || c.vetId === null) {
      throw notFound("Room not found");
    }
    this.d.notifier.toVet(c.vetId, "call:status", { consultation_id: c.id, room_sid: roomSid, status });
    this.record(c.id, (l) => l.note(c.id, this.now(), { call_status: status, room_sid: roomSid }));
  }

  // ------------------------------------------------------------------ REST talk-to-vet

  /**
   * REST talk-to-vet: assigns an available vet at once (the requested one if eligible, else
   * the longest idle) with no offer round. 503 with `Retry-After` when none is available.
   */
  async talkToVet(input: {
    appId: number;
    userId: number;
    petId: number;
    type: ConsultationType;
    doctorEmail?: string | undefined;
  }): Promise<DirectAssignment> {
    let c: LiveConsultation | null = null;
    const existing = await this.store.findOpenByUser(input.appId, input.userId);
    if (existing && existing.status !== "active") {
      throw new AppError(409, "The user already has a consultation waiting for a vet.");
    }
    if (existing) c = existing;
    // Looked up once; only the vet choice is retried when another node took the vet first.
    const fresh = c ? null : await this.newConsultation(input, "active");
    for (let attempt = 0; fresh && !c && attempt < 3; attempt++) {
      const { vets } = await this.store.snapshot();
      const pick = chooseVet(
        { requestedVetId: fresh.requestedVetId, excludedVetIds: [] },
        eligibleVets(vets, this.cfg.vetMaxConsults),
      );
      if (!pick) break;
      const r = await this.store.assignDirect(fresh, pick.vetId, this.now(), this.cfg.vetMaxConsults);
      if (r.ok) {
        c = r.consultation;
        const created = c;
        await this.recordNow(created.id, (l) => l.create(created, "rest"));
      } else if (r.reason === "user_has_open" && r.existing) {
        if (r.existing.status !== "active") throw new AppError(409, "The user already has a consultation waiting for a vet.");
        c = r.existing;
      }
    }
    if (!c) throw new AppError(503, "No vet is available right now, please retry.", { "Retry-After": "30" });
    c = await this.ensureConversation(c);
    // The partner may call end or feedback with this channel SID right away, on any node.
    await this.writes.run(c.id, () => Promise.resolve());
    const { user, vet } = await this.matchedPayloads(c);
    this.d.notifier.toVet(c.vetId!, "consult:assigned", vet);
    return { consultation: c, vet: user.vet, identity: user.identity, twilioToken: user.twilioToken };
  }

  // ------------------------------------------------------------------ payloads

  /** Creates the Twilio Conversation once; `recordSid` false when the caller writes the SID itself. */
  private async ensureConversation(c: LiveConsultation, recordSid = true): Promise<LiveConsultation> {
    if (c.channelSid || c.vetId === null) return c;
    const { sid } = await this.d.twilio.createConversation({
      uniqueName: c.id,
      friendlyName: `Consultation ${c.id}`,
      userIdentity: this.d.tokens.forUser(c.appId, c.userId).identity,
      vetIdentity: this.d.tokens.forVet(c.vetId).identity,
    });
    if (recordSid) this.record(c.id, (l) => l.setSids(c.id, { channelSid: sid }));
    return (await this.store.updateSids(c.id, { channelSid: sid })) ?? { ...c, channelSid: sid };
  }

  private async vetCard(vetId: number): Promise<VetCard> {
    const vet = await this.d.directory.vet(vetId);
    return vet?.card ?? { id: this.d.tokens.forVet(vetId).identity, username: "", profile_image: null };
  }

  /** `consult:matched` for the owner and the accept/assigned payload for the vet: each with its own token. */
  private async matchedPayloads(c: LiveConsultation): Promise<{ user: MatchedPayload; vet: VetConsultationPayload }> {
    const vetId = c.vetId!;
    const card = await this.vetCard(vetId);
    const userToken = this.d.tokens.forUser(c.appId, c.userId);
    const vetToken = this.d.tokens.forVet(vetId);
    const base = { consultation_id: c.id, type: c.type, channel: c.channelSid ?? "", vet: card };
    return {
      user: { ...base, identity: userToken.identity, twilioToken: userToken.token },
      vet: {
        ...base,
        identity: vetToken.identity,
        twilioToken: vetToken.token,
        user: c.profile.user,
        pet: c.profile.pet,
        user_identity: userToken.identity,
      },
    };
  }

  private async statePayload(c: LiveConsultation): Promise<StatePayload> {
    const base: StatePayload = { consultation_id: c.id, status: c.status, type: c.type };
    if (c.status !== "active") {
      const { position, vets } = await this.positionOf(c.id);
      return { ...base, position, estimated_wait_s: this.estimateWait(position, vets) };
    }
    const token = this.d.tokens.forUser(c.appId, c.userId, c.roomSid ?? undefined);
    return {
      ...base,
      channel: c.channelSid,
      room_sid: c.roomSid,
      vet: await this.vetCard(c.vetId!),
      identity: token.identity,
      twilioToken: token.token,
    };
  }

  /** Fresh Twilio tokens (`token:refresh`). */
  userToken(appId: number, userId: number): { twilioToken: string; expires_at: string } {
    const t = this.d.tokens.forUser(appId, userId);
    return { twilioToken: t.token, expires_at: new Date(t.expiresAt).toISOString() };
  }

  vetToken(vetId: number): { twilioToken: string; expires_at: string } {
    const t = this.d.tokens.forVet(vetId);
    return { twilioToken: t.token, expires_at: new Date(t.expiresAt).toISOString() };
  }

  // ------------------------------------------------------------------ queue positions

  private async positionOf(id: string): Promise<{ position: number; vets: VetPresence[] }> {
    const { queue, vets } = await this.store.snapshot();
    const i = queue.findIndex((c) => c.id === id);
    return { position: i < 0 ? 0 : i + 1, vets };
  }

  /**
   * Seconds until a vet is likely free for the request at `position`: the average
   * consultation length shared among the vets online and available.
   */
  private estimateWait(position: number, vets: VetPresence[]): number {
    const online = vets.filter((v) => v.connections > 0 && v.status === "available").length;
    if (online === 0) return Math.round(position * this.handleS);
    return Math.round((position * this.handleS) / online);
  }

  /**
   * Tells queued owners their new place after requests left the queue. Coalesced per tick
   * and sent only where the place changed since this node last sent it: under load one
   * message per owner per tick, not one per owner per departure.
   */
  private async sendPositions(): Promise<void> {
    this.positionsChanged = false;
    const { queue, vets } = await this.store.snapshot();
    const live = new Set<string>();
    for (let i = 0; i < queue.length; i++) {
      const c = queue[i];
      live.add(c.id);
      if (this.sentPositions.get(c.id) === i + 1) continue;
      this.sentPositions.set(c.id, i + 1);
      this.d.notifier.toUser(c.appId, c.userId, "consult:queued", {
        consultation_id: c.id,
        position: i + 1,
        estimated_wait_s: this.estimateWait(i + 1, vets),
      });
    }
    for (const id of this.sentPositions.keys()) if (!live.has(id)) this.sentPositions.delete(id);
  }

  // ------------------------------------------------------------------ time

  /**
   * Runs everything time-driven once: heartbeat, dead-node cleanup, due deadlines (offer
   * timeout, queue expiry, user grace, wrap-up), and a routing pass as a safety net.
   */
  async tick(): Promise<void> {
    const now = this.now();
    if (now - this.lastHeartbeat >= this.cfg.presenceTtlMs / 3) {
      const registered = await this.store.heartbeat(this.d.nodeId, now, this.cfg.presenceTtlMs);
      if (!registered && this.lastHeartbeat !== 0) {
        this.d.logger.warn({ node: this.d.nodeId }, "this node was reaped after a pause; its sockets must reconnect");
        this.d.onNodeReaped?.();
      }
      this.lastHeartbeat = now;
    }
    for (const cleanup of await this.store.reapDeadNodes(now)) await this.afterNodeCleanup(cleanup);
    for (const d of await this.store.claimDue(now, DUE_BATCH)) {
      try {
        await this.onDeadline(d);
      } catch (err) {
        this.d.logger.error({ err, deadline: d }, "deadline handling failed");
      }
    }
    await this.pump();
    if (this.positionsChanged) {
      await this.sendPositions().catch((err: unknown) => this.d.logger.warn({ err }, "queue position update failed"));
    }
  }

  private async onDeadline(d: Deadline): Promise<void> {
    switch (d.kind) {
      case "offer":
        return this.onOfferTimeout(d.ref);
      case "queue":
        await this.close(d.ref, "expired", { reason: "queue_timeout" });
        return;
      case "grace":
        await this.close(d.ref, "cancelled", { reason: "user_gone" });
        return;
      case "wrapup":
        await this.store.endWrapup(Number(d.ref), this.now());
        await this.pump();
        return;
    }
  }

  /** Offer timeout: revoked, the vet is set away (`offer_timeout`), the next vet is offered. */
  private async onOfferTimeout(consultationId: string): Promise<void> {
    const c = await this.store.getConsultation(consultationId);
    if (!c?.offer || c.offer.expiresAt > this.now()) return;
    const vetId = c.offer.vetId;
    const released = await this.store.releaseOffer(c.id, vetId, { setAway: true });
    if (!released) return;
    this.offerEnded(c.id, vetId, "timeout");
    this.d.notifier.toVet(vetId, "consult:offer_revoked", { consultation_id: c.id, reason: "timeout" });
    this.d.notifier.toVet(vetId, "presence", { status: "away", reason: "offer_timeout" });
    await this.pump();
  }

  private async afterNodeCleanup(cleanup: NodeCleanup): Promise<void> {
    if (cleanup.offlineVetIds.length || cleanup.released.length) {
      this.d.logger.warn(
        { node: cleanup.nodeId, vets: cleanup.offlineVetIds.length, offers: cleanup.released.length },
        "node left routing",
      );
    }
    for (const { consultation, vetId } of cleanup.released) this.offerEnded(consultation.id, vetId, "node_dead");
    for (const u of cleanup.disconnectedUsers) await this.startGrace(u.appId, u.userId);
    if (cleanup.released.length) await this.pump();
  }

  /** SIGTERM: this node's vets leave routing and their offers go to vets elsewhere at once. */
  async drain(): Promise<void> {
    const cleanup = await this.store.removeNode(this.d.nodeId, this.now());
    await this.afterNodeCleanup(cleanup);
    await this.writes.flush();
  }

  /** Waits for queued history writes (tests, shutdown). */
  flush(): Promise<void> {
    return this.writes.flush();
  }

  /** `GET /admin/v1/stats`. */
  async stats(): Promise<{ queue_length: number; vets: Record<string, number>; open_consultations: number }> {
    const { queue, vets } = await this.store.snapshot();
    const byStatus: Record<string, number> = { available: 0, offered: 0, busy: 0, wrapup: 0, away: 0, offline: 0 };
    let active = 0;
    for (const v of vets) {
      active += v.activeConsultationIds.length;
      const key =
        v.connections === 0
          ? "offline"
          : v.status === "away"
            ? "away"
            : v.offerConsultationId
              ? "offered"
              : v.wrapupUntil !== null
                ? "wrapup"
                : v.activeConsultationIds.length >= this.cfg.vetMaxConsults
                  ? "busy"
                  : "available";
      byStatus[key] = (byStatus[key] ?? 0) + 1;
    }
    return { queue_length: queue.length, vets: byStatus, open_consultations: queue.length + active };
  }
}
