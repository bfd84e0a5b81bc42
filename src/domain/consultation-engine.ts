/**
 * The consultation engine: the one object transports call for routing (PROTOCOL §4) and the
 * consultation lifecycle queued → offered → active → ended | cancelled | expired.
 *
 * Plain domain code: it knows nothing of Socket.IO or Express. Each kind of state has its own
 * part, which keeps it private: {@link Intake} (requests), the {@link RoutingPass},
 * {@link QueuePositions}, the {@link Timekeeper} (deadlines, heartbeat, drain), {@link CallSetup}
 * (Twilio), {@link Acceptance} (a vet's accept), {@link Lifecycle} (how consultations and
 * offers end), {@link Feedback} and the {@link LedgerWriter}. This class checks who may do
 * what and runs the commands through those parts. Shared state lives in the
 * {@link RoutingStore}, whose atomic steps keep a consultation with one vet and a vet with
 * one offer, across nodes.
 */
import { Chat, type ChatSender } from "./chat.js";
import { AppError } from "../lib/app-error.js";
import type {
  CallStatus,
  ChatMessage,
  FeedbackPayload,
  StatePayload,
  TokenPayload,
  VetConsultationPayload,
} from "../protocol/events.js";
import { Acceptance } from "./acceptance.js";
import { CallSetup } from "./call-setup.js";
import type { RoutingConfig } from "./engine-config.js";
import { Ending } from "./ending.js";
import { Feedback } from "./feedback.js";
import { LedgerWriter } from "./ledger-writer.js";
import { Intake, type ConsultationInput, type DirectAssignment, type RequestResult } from "./intake.js";
import { Lifecycle } from "./lifecycle.js";
import { PayloadBuilder, statsPayload, type EngineStats } from "./outgoing-payloads.js";
import { QueuePositions } from "./queue-positions.js";
import { Rebuilder } from "./rebuild.js";
import { RoutingPass } from "./routing-pass.js";
import type { RoutingStore } from "./routing-store.js";
import { Timekeeper } from "./timekeeper.js";
import { QUEUE_HEAD_LIMIT } from "./routing-rules.js";
import { publicId, referralEntryId, type VetChosenStatus, type VetPresence, type VetSkills } from "./types.js";
import { Referrals, type ReferralInput } from "./referrals.js";
import { VetHandover, type VetResume } from "./vet-handover.js";
import type { EngineDeps } from "./engine-deps.js";
import { wireEngine } from "./engine-parts.js";

export type { EngineObserver, RoutingConfig } from "./engine-config.js";
export type { EngineDeps };

export type { ConsultationInput, DirectAssignment, RequestResult } from "./intake.js";

/** Stats answer from the timer's last whole-queue read while it is younger than this (it reads every second at most). */
const STATS_SNAPSHOT_MAX_AGE_MS = 2000;

export class ConsultationEngine {
  private readonly deps: EngineDeps;
  private readonly store: RoutingStore;
  private readonly ledgerWriter: LedgerWriter;
  private readonly payloads: PayloadBuilder;
  private readonly positions: QueuePositions;
  private readonly calls: CallSetup;
  private readonly pass: RoutingPass;
  private readonly lifecycle: Lifecycle;
  private readonly timekeeper: Timekeeper;
  private readonly rebuilder: Rebuilder;
  private readonly intake: Intake;
  private readonly feedback: Feedback;
  private readonly handover: VetHandover;
  private readonly acceptance: Acceptance;
  private readonly chat: Chat;
  private readonly referrals: Referrals;
  private readonly ending: Ending;

  constructor(deps: EngineDeps) {
    this.deps = deps;
    this.store = deps.store;
    const parts = wireEngine(deps);
    this.ledgerWriter = parts.ledgerWriter;
    this.payloads = parts.payloads;
    this.positions = parts.positions;
    this.calls = parts.calls;
    this.pass = parts.pass;
    this.lifecycle = parts.lifecycle;
    this.timekeeper = parts.timekeeper;
    this.rebuilder = parts.rebuilder;
    this.intake = parts.intake;
    this.feedback = parts.feedback;
    this.handover = parts.handover;
    this.acceptance = parts.acceptance;
    this.chat = parts.chat;
    this.referrals = parts.referrals;
    this.ending = parts.ending;
  }

  private get cfg(): RoutingConfig {
    return this.deps.routing;
  }

  private now(): number {
    return this.deps.clock.now();
  }

  /**
   * One routing pass on this node: plan offers from a snapshot and claim them. Passes are
   * serialised per node; a pass requested while one runs makes it run once more.
   */
  routingPass(): Promise<void> {
    return this.pass.run();
  }

  // ------------------------------------------------------------------ vets

  /**
   * A vet socket connected: routing takes the vet's skills as stored now. Read fresh: this
   * node's cached copy may predate a `PATCH` served by another node. A `PATCH` landing
   * between this read and the store write is kept: its skills have a higher version.
   */
  async vetConnected(vetId: number, connId: string): Promise<VetPresence> {
    const skills = (await this.deps.directory.vet(vetId, { fresh: true }))?.skills;
    return this.store.addVetConnection(vetId, connId, this.deps.nodeId, this.now(), skills);
  }

  /**
   * What a vet console gets right after connecting (PROTOCOL §3): `consult:state` per active
   * consultation and its held offer again. Ends a running `VET_GRACE_MS` (back in time).
   */
  vetResume(vetId: number): Promise<VetResume> {
    return this.handover.resume(vetId);
  }

  /**
   * A vet socket disconnected. When it was the last connection: its offer goes to the next
   * vet, and its active consultations wait `VET_GRACE_MS` for it before being handed over.
   */
  async vetDisconnected(vetId: number, connId: string): Promise<void> {
    const { presence, released, offer } = await this.store.removeVetConnection(vetId, connId, this.now());
    if (released) {
      this.lifecycle.offerEnded(released.id, vetId, "disconnected", offer);
      await this.pass.run({ include: released.id });
    }
    await this.handover.afterDisconnect(presence);
  }

  /**
   * An operator changed the vet's skills (`PATCH /admin/v1/vets/{id}`): routing uses them
   * from the next pass on, on every node. Requests the vet holds are not taken away.
   */
  async vetSkillsChanged(vetId: number, skills: VetSkills): Promise<void> {
    await this.store.setVetSkills(vetId, skills);
    await this.pass.run();
  }

  /**
   * An operator disabled the vet (PROTOCOL §6): no more offers, a held offer moves on, and
   * active consultations are handed over at once (same path as an expired `VET_GRACE_MS`).
   */
  vetDisabled(vetId: number): Promise<void> {
    return this.handover.disable(vetId);
  }

  /** `presence:set`. */
  async setVetStatus(vetId: number, status: VetChosenStatus): Promise<{ status: VetChosenStatus }> {
    const { presence, released, offer } = await this.store.setVetStatus(vetId, status, this.now());
    if (!presence) throw new AppError(409, "The vet is not connected.");
    this.rebuilder.noteVetStatus(vetId, presence.status);
    if (released) {
      this.lifecycle.offerEnded(released.id, vetId, "away", offer);
      this.deps.notifier.toVet(vetId, "consult:offer_revoked", {
        consultation_id: publicId(released),
        reason: "cancelled",
      });
    }
    if (status === "available" || released) await this.pass.run(released ? { include: released.id } : {});
    return { status: presence.status };
  }

  // ------------------------------------------------------------------ users

  /** A user socket connected; returns the open consultation to resume, if any. */
  async userConnected(appId: number, userId: number, connId: string): Promise<StatePayload | null> {
    await this.store.addUserConnection(appId, userId, connId, this.deps.nodeId);
    const open = await this.store.findOpenByUser(appId, userId);
    if (!open) return null;
    await this.store.removeDeadline("grace", open.id);
    if (open.status === "active") return this.payloads.activeState(open);
    // Waiting again after its vet left: the conversation so far comes back too (PROTOCOL §10).
    const chat = open.transferred ? await this.payloads.chatSoFar(open.id) : {};
    return {
      consultation_id: open.id,
      status: open.status,
      type: open.type,
      ...(await this.positions.waitingState(open.id)),
      ...chat,
    };
  }

  /**
   * `delete-user` (PROTOCOL §6): the owner's open consultation is ended (active: the vet gets
   * `consult:ended`, reason `user_deleted`) or cancelled (a held offer is revoked).
   */
  async userDeleted(appId: number, userId: number): Promise<void> {
    const open = await this.store.findOpenByUser(appId, userId);
    if (!open) return;
    await this.lifecycle.close(open.id, open.status === "active" ? "ended" : "cancelled", {
      endedBy: "system",
      reason: "user_deleted",
    });
  }

  /** A user socket disconnected: when it was the last, a queued request gets `USER_GRACE_MS`. */
  async userDisconnected(appId: number, userId: number, connId: string): Promise<void> {
    const remaining = await this.store.removeUserConnection(appId, userId, connId);
    if (remaining === 0) await this.lifecycle.startGrace(appId, userId);
  }

  /**
   * `consult:request`: queues a consultation, or returns the user's open one. The request
   * is written to the ledger before it becomes visible to routing on any node.
   */
  request(input: ConsultationInput): Promise<RequestResult> {
    return this.intake.request(input);
  }

  /** `consult:cancel` by the owner (queued or offered only). */
  cancel(appId: number, userId: number, consultationId: string): Promise<void> {
    return this.ending.cancel(appId, userId, consultationId);
  }

  /** `consult:end` by the owner; a request not yet active is cancelled. Idempotent. */
  endByUser(appId: number, userId: number, consultationId: string): Promise<void> {
    return this.ending.endByUser(appId, userId, consultationId);
  }

  /** REST `end` by channel SID: idempotent, 404 when no consultation of this app has it. */
  endByChannel(appId: number, channelSid: string): Promise<void> {
    return this.ending.endByChannel(appId, channelSid);
  }

  // ------------------------------------------------------------------ offers

  /** `consult:accept`: see {@link Acceptance.accept}. */
  accept(vetId: number, consultationId: string): Promise<VetConsultationPayload> {
    return this.acceptance.accept(vetId, consultationId);
  }

  /** `consult:decline`: the next vet is offered at once (a referral's offer: see {@link Referrals}). */
  async decline(vetId: number, consultationId: string): Promise<void> {
    // Clients know a referral's offer by its consultation's id.
    let id = consultationId;
    let released = await this.store.releaseOffer(id, vetId);
    if (!released) released = await this.store.releaseOffer((id = referralEntryId(consultationId)), vetId);
    if (!released) throw new AppError(409, "The offer is no longer available.");
    this.lifecycle.offerEnded(id, vetId, "declined", released.offer);
    await this.pass.run({ include: id });
  }

  // ------------------------------------------------------------------ referrals (PROTOCOL §10)

  /** `consult:transfer`: see {@link Referrals.request}. */
  transfer(
    vetId: number,
    consultationId: string,
    input: ReferralInput,
  ): Promise<{ consultation_id: string; referral: "pending" }> {
    return this.referrals.request(vetId, consultationId, input);
  }

  /** `consult:transfer_cancel`. */
  cancelTransfer(vetId: number, consultationId: string): Promise<void> {
    return this.referrals.cancel(vetId, consultationId);
  }

  /** `consult:leave`: a warm referral's first vet lets go. */
  leave(vetId: number, consultationId: string): Promise<void> {
    return this.referrals.leave(vetId, consultationId);
  }

  // ------------------------------------------------------------------ lifecycle

  /** `consult:end` by the assigned vet. Idempotent once ended. */
  endByVet(vetId: number, consultationId: string): Promise<void> {
    return this.ending.endByVet(vetId, consultationId);
  }

  /**
   * `consult:feedback`: stored (a later one replaces it), relayed to the owner, and ends the
   * vet's wrap-up for this consultation. `outcome` must be one of `OUTCOMES` (422 otherwise;
   * the socket requires it, PROTOCOL §10).
   */
  submitFeedback(
    vetId: number,
    consultationId: string,
    recommendation: string,
    reason: string,
    outcome?: string,
  ): Promise<void> {
    return this.feedback.submit(vetId, consultationId, recommendation, reason, outcome);
  }

  /** REST `feedback`: by channel SID (chat) or room SID (video); 404 when none yet. */
  feedbackFor(
    appId: number,
    by: { channelSid: string } | { roomSid: string },
  ): Promise<Omit<FeedbackPayload, "consultation_id">> {
    return this.feedback.find(appId, by);
  }

  // ------------------------------------------------------------------ video

  /** `call:start` (video): creates the room once, rings the owner, returns the vet's room token. */
  startCall(vetId: number, consultationId: string): Promise<{ room_sid: string; twilioToken: string }> {
    return this.calls.startCall(vetId, consultationId);
  }

  /**
   * The owner's answer to a call (`call:status` on `/user`, or REST `video-call-action`),
   * relayed to the vet. With `userId` the room must belong to that user.
   */
  relayCallStatus(appId: number, userId: number | null, roomSid: string, status: CallStatus): Promise<void> {
    return this.calls.relayCallStatus(appId, userId, roomSid, status);
  }

  // ------------------------------------------------------------------ chat

  /** `chat:send` (offline mode, PROTOCOL §10): stored, then relayed; see {@link Chat.send}. */
  sendChat(from: ChatSender, consultationId: string, text: string): Promise<ChatMessage> {
    return this.chat.send(from, consultationId, text);
  }

  // ------------------------------------------------------------------ REST talk-to-vet

  /**
   * REST talk-to-vet: assigns an available vet at once (the requested one if eligible, else
   * the longest idle) with no offer round. `NoVetAvailableError` when none is available.
   */
  talkToVet(input: ConsultationInput): Promise<DirectAssignment> {
    return this.intake.talkToVet(input);
  }

  // ------------------------------------------------------------------ tokens

  /** Fresh Twilio tokens (`token:refresh`). */
  userToken(appId: number, userId: number): TokenPayload {
    return this.payloads.userToken(appId, userId);
  }

  vetToken(vetId: number): TokenPayload {
    return this.payloads.vetToken(vetId);
  }

  // ------------------------------------------------------------------ time

  /**
   * Runs everything time-driven once: heartbeat, dead-node cleanup, due deadlines (offer
   * timeout, queue expiry, user grace, wrap-up), and a routing pass as a safety net.
   */
  tick(): Promise<void> {
    return this.timekeeper.tick();
  }

  /** SIGTERM: this node's vets leave routing and their offers go to vets elsewhere at once. */
  drain(): Promise<void> {
    return this.timekeeper.drain();
  }

  /** Waits until every queued ledger write is stored (tests). */
  flush(): Promise<void> {
    return this.ledgerWriter.flush();
  }

  /**
   * Shutdown: waits a bounded time (`shutdownFlushMs`) for ledger writes still being retried, logs
   * what is left, and stops retrying.
   */
  async close(): Promise<void> {
    await this.ledgerWriter.flush(this.deps.shutdownFlushMs ?? 5000);
    this.ledgerWriter.close();
  }

  /**
   * The pet of the offer the vet holds now, from the live state (offers are recorded
   * behind): who may read a pet's history (PROTOCOL §10). Null without an offer or a pet.
   */
  async offeredPet(vetId: number): Promise<{ appId: number; petId: number } | null> {
    const offerId = (await this.store.getVet(vetId))?.offerConsultationId;
    const c = offerId ? await this.store.getConsultation(offerId) : null;
    return c?.offer?.vetId === vetId && c.petId !== null ? { appId: c.appId, petId: c.petId } : null;
  }

  /**
   * `GET /admin/v1/stats`. Dashboards poll it: past `QUEUE_HEAD_LIMIT` waiting it answers from
   * the whole-queue read the timer's routing pass made anyway (at most a second old), so a
   * poll costs no read that grows with the queue. A shorter queue is read afresh (exact).
   */
  async stats(): Promise<EngineStats> {
    const seen = this.positions.lastWholeQueue();
    const fresh = seen !== null && this.deps.clock.now() - seen.readAt < STATS_SNAPSHOT_MAX_AGE_MS;
    if (fresh && seen.snapshot.queue.length > QUEUE_HEAD_LIMIT)
      return statsPayload(seen.snapshot, this.cfg.vetMaxConsults);
    return statsPayload(await this.store.snapshot(), this.cfg.vetMaxConsults);
  }
}
