import type {
  AcceptResult,
  AssignResult,
  ClaimResult,
  EndedReferral,
  EnqueueResult,
  LeaveResult,
  ReferralAccepted,
  ReferralRequestResult,
  FinishResult,
  NewLiveConsultation,
  NodeCleanup,
  ReleasedOffer,
  RoutingSnapshot,
  RoutingStore,
  TransferResult,
  VetRelease,
} from "../../domain/routing-store.js";
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
import { AppQueueFullError } from "../../domain/errors.js";
import type { RoutingRules } from "../../domain/routing-rules.js";
import { routingKeys, type RoutingKeys } from "./keys.js";
import {
  json,
  list,
  splitNew,
  toCleanup,
  toConsultation,
  toConsultationOrNull,
  toOffer,
  toReferral,
  toRelease,
  toSnapshot,
  toVet,
  toVetOrNull,
  type StoredConsultation,
  type WireCleanup,
  type WireConsultation,
  type WireRelease,
} from "./replies.js";
import { LuaCommands, readCommands, type RedisCommandClient } from "./scripts.js";

export type { RedisCommandClient } from "./scripts.js";

/** The rules as the Lua commands take them (ARGV maxConsults, languageWaitMs, priorityAgingMs, licensing 1/0). */
function ruleArgs(r: RoutingRules): [number, number, number, number] {
  return [r.maxConsults, r.languageWaitMs, r.priorityAgingMs, r.licensing ? 1 : 0];
}

export interface RedisRoutingStoreOptions {
  client: RedisCommandClient;
  /** Every key lives under this prefix, e.g. `gw:routing:` (names in `redis/keys.ts`). */
  prefix: string;
  /** Consultations per call of the paged whole-queue read (`snapshot`); default {@link SNAPSHOT_PAGE}. */
  snapshotPage?: number;
}

/**
 * Consultations per call of `snapshot`: one call reading 2,000 held Redis 2.9 ms (idle
 * machine; 5-9 ms under load), and every other command of every node waited behind it; a
 * page of 250 holds it about 0.4 ms.
 */
export const SNAPSHOT_PAGE = 250;

/**
 * {@link RoutingStore} in Redis, shared by every gateway node.
 *
 * Each state change is one Lua command from `redis/commands/` (EVALSHA, falling back to
 * EVAL when Redis does not have it cached). Redis runs a script without interleaving any
 * other command, so preconditions and updates cannot race across nodes: of two nodes
 * calling `claimOffer` for the same consultation or vet, one wins and the other gets a
 * refusal. Reads are scripts too, so they cost one round trip; the whole-queue read
 * (`snapshot`) is the exception: one round trip a page, so that a long queue never holds
 * Redis for long.
 *
 * Times are the caller's (`now` arguments), never Redis time, so an injected clock drives
 * deadlines and node liveness alike. The client is the caller's: `close()` leaves it open.
 */
export class RedisRoutingStore implements RoutingStore {
  private readonly client: RedisCommandClient;
  private readonly keys: RoutingKeys;
  private readonly lua: LuaCommands;
  private readonly snapshotPage: number;

  constructor(opts: RedisRoutingStoreOptions) {
    this.client = opts.client;
    this.snapshotPage = Math.max(1, Math.floor(opts.snapshotPage ?? SNAPSHOT_PAGE));
    this.keys = routingKeys(opts.prefix);
    this.lua = new LuaCommands(opts.client, opts.prefix, readCommands());
  }

  /** Loads every script into Redis' cache ahead of time (optional: calls fall back to EVAL). */
  loadScripts(): Promise<void> {
    return this.lua.loadAll();
  }

  // ---------- nodes ----------

  async heartbeat(nodeId: string, now: number, ttlMs: number): Promise<boolean> {
    return json<boolean>(await this.lua.call("heartbeat", [nodeId, now + ttlMs, now, Math.floor(ttlMs)]));
  }

  async reapDeadNodes(now: number): Promise<NodeCleanup[]> {
    return list<WireCleanup>(json(await this.lua.call("reapDeadNodes", [now]))).map(toCleanup);
  }

  async removeNode(nodeId: string, _now: number): Promise<NodeCleanup> {
    return toCleanup(json<WireCleanup>(await this.lua.call("removeNode", [nodeId])));
  }

  // ---------- vets ----------

  async addVetConnection(
    vetId: number,
    connId: string,
    nodeId: string,
    now: number,
    skills?: VetSkills,
  ): Promise<VetPresence> {
    const args = [vetId, connId, nodeId, now, skills ? JSON.stringify(skills) : ""];
    return toVet(json<VetPresence>(await this.lua.call("addVetConnection", args)));
  }

  async removeVetConnection(vetId: number, connId: string, now: number): Promise<VetRelease> {
    return toRelease(json<WireRelease>(await this.lua.call("removeVetConnection", [vetId, connId, now])));
  }

  async setVetStatus(vetId: number, status: VetChosenStatus, now: number): Promise<VetRelease> {
    return toRelease(json<WireRelease>(await this.lua.call("setVetStatus", [vetId, status, now])));
  }

  async setVetSkills(vetId: number, skills: VetSkills): Promise<void> {
    await this.lua.call("setVetSkills", [vetId, JSON.stringify(skills)]);
  }

  async endWrapup(vetId: number, now: number): Promise<VetPresence | null> {
    return toVetOrNull(json<VetPresence | null>(await this.lua.call("endWrapup", [vetId, now])));
  }

  async getVet(vetId: number): Promise<VetPresence | null> {
    const s = await this.client.sendCommand(["GET", this.keys.vet(vetId)]);
    return s == null ? null : toVet(json<VetPresence>(s));
  }

  // ---------- users ----------

  async addUserConnection(appId: number, userId: number, connId: string, nodeId: string): Promise<number> {
    return json<number>(await this.lua.call("addUserConnection", [appId, userId, connId, nodeId]));
  }

  async userConnectionCount(appId: number, userId: number): Promise<number> {
    return Number(await this.client.sendCommand(["HLEN", this.keys.userConnections(appId, userId)]));
  }

  async removeUserConnection(appId: number, userId: number, connId: string): Promise<number> {
    return json<number>(await this.lua.call("removeUserConnection", [appId, userId, connId]));
  }

  async findOpenByUser(appId: number, userId: number): Promise<LiveConsultation | null> {
    return toConsultationOrNull(json<WireConsultation | null>(await this.lua.call("findOpenByUser", [appId, userId])));
  }

  // ---------- consultations ----------

  async enqueue(c: NewLiveConsultation, maxQueuedPerApp = 0, priorityAgingMs = 0): Promise<EnqueueResult> {
    const w = json<{ created: boolean; consultation: WireConsultation; position: number } | { appQueueFull: true }>(
      await this.lua.call("enqueue", [...splitNew(c), maxQueuedPerApp, priorityAgingMs]),
    );
    if ("appQueueFull" in w) throw new AppQueueFullError(c.appId);
    return { created: w.created, consultation: toConsultation(w.consultation), position: w.position };
  }

  async assignDirect(c: NewLiveConsultation, vetId: number, now: number, rules: RoutingRules): Promise<AssignResult> {
    const w = json<
      | { ok: true; consultation: WireConsultation }
      | { ok: false; reason: "vet_not_eligible" | "user_has_open"; existing?: WireConsultation }
    >(await this.lua.call("assignDirect", [...splitNew(c), vetId, now, ...ruleArgs(rules)]));
    if (w.ok) return { ok: true, consultation: toConsultation(w.consultation) };
    return w.existing
      ? { ok: false, reason: w.reason, existing: toConsultation(w.existing) }
      : { ok: false, reason: w.reason };
  }

  async getConsultation(id: string): Promise<LiveConsultation | null> {
    const r = await this.client.sendCommand(["MGET", this.keys.consultation(id), this.keys.consultationProfile(id)]);
    const [d, p] = Array.isArray(r) ? (r as unknown[]) : [];
    if (d == null) return null;
    return toConsultation({ d: json<StoredConsultation>(d), p: json<WireConsultation["p"]>(p) });
  }

  async claimOffer(
    consultationId: string,
    vetId: number,
    now: number,
    expiresAt: number,
    rules: RoutingRules,
  ): Promise<ClaimResult> {
    const w = json<{ ok: true; consultation: WireConsultation } | Extract<ClaimResult, { ok: false }>>(
      await this.lua.call("claimOffer", [consultationId, vetId, now, expiresAt, ...ruleArgs(rules)]),
    );
    return w.ok ? { ok: true, consultation: toConsultation(w.consultation) } : w;
  }

  async acceptOffer(consultationId: string, vetId: number, now: number, channelSid?: string): Promise<AcceptResult> {
    const w = json<
      | {
          ok: true;
          consultation: WireConsultation;
          alreadyActive: boolean;
          offer?: HeldOffer;
          referral?: ReferralAccepted;
        }
      | { ok: false; reason: "no_offer" | "expired" }
    >(await this.lua.call("acceptOffer", [consultationId, vetId, now, channelSid ?? ""]));
    if (!w.ok) return w;
    const consultation = toConsultation(w.consultation);
    return {
      ok: true,
      consultation,
      alreadyActive: w.alreadyActive,
      ...(w.offer ? { offer: w.offer } : {}),
      ...(w.referral
        ? { referral: { fromVetId: w.referral.fromVetId, referral: toReferral(w.referral.referral) } }
        : {}),
    };
  }

  async revertAccept(consultationId: string, vetId: number, offer: HeldOffer): Promise<"offered" | "queued" | null> {
    return json<"offered" | "queued" | null>(
      await this.lua.call("revertAccept", [consultationId, vetId, offer.offeredAt, offer.expiresAt]),
    );
  }

  async restore(c: LiveConsultation): Promise<boolean> {
    const { seq, ...rest } = c;
    return json<boolean>(await this.lua.call("restore", [...splitNew(rest), seq]));
  }

  async releaseOffer(
    consultationId: string,
    vetId: number,
    opts: { setAway?: boolean } = {},
  ): Promise<ReleasedOffer | null> {
    const w = json<WireConsultation | null>(
      await this.lua.call("releaseOffer", [consultationId, vetId, opts.setAway ? "1" : "0"]),
    );
    return w ? { consultation: toConsultation(w), offer: toOffer(w) } : null;
  }

  async setCare(id: string, care: Care): Promise<LiveConsultation | null> {
    return toConsultationOrNull(json<WireConsultation | null>(await this.lua.call("setCare", [id, care])));
  }

  async updateSids(
    consultationId: string,
    sids: { channelSid?: string; roomSid?: string },
  ): Promise<LiveConsultation | null> {
    const reply = await this.lua.call("updateSids", [
      consultationId,
      sids.channelSid !== undefined ? "1" : "0",
      sids.channelSid ?? "",
      sids.roomSid !== undefined ? "1" : "0",
      sids.roomSid ?? "",
    ]);
    return toConsultationOrNull(json<WireConsultation | null>(reply));
  }

  async finish(consultationId: string, now: number, wrapupUntil: number | null): Promise<FinishResult | null> {
    const w = json<{ consultation: WireConsultation; revokedOfferVetId: number | null; waiting: number } | null>(
      await this.lua.call("finish", [consultationId, now, wrapupUntil === null ? "" : wrapupUntil]),
    );
    return w ? { ...w, consultation: toConsultation(w.consultation) } : null;
  }

  // ---------- referrals ----------

  async requestReferral(consultationId: string, referral: Referral): Promise<ReferralRequestResult> {
    const w = json<
      | { ok: true; consultation: WireConsultation; entry: WireConsultation }
      | Extract<ReferralRequestResult, { ok: false }>
    >(
      await this.lua.call("requestReferral", [
        consultationId,
        JSON.stringify(referral),
        referral.species ?? "",
        referral.language ?? "",
      ]),
    );
    return w.ok ? { ok: true, consultation: toConsultation(w.consultation), entry: toConsultation(w.entry) } : w;
  }

  async endReferral(consultationId: string): Promise<EndedReferral | null> {
    const w = json<{ consultation: WireConsultation; referral: Referral; revokedOffer: HeldOffer | null } | null>(
      await this.lua.call("endReferral", [consultationId]),
    );
    return w
      ? {
          consultation: toConsultation(w.consultation),
          referral: toReferral(w.referral),
          revokedOffer: w.revokedOffer ?? null,
        }
      : null;
  }

  async leaveConsultation(consultationId: string, vetId: number, now: number): Promise<LeaveResult | null> {
    const w = json<{ consultation: WireConsultation; presence: VetPresence | null } | null>(
      await this.lua.call("leaveConsultation", [consultationId, vetId, now]),
    );
    return w ? { consultation: toConsultation(w.consultation), presence: toVetOrNull(w.presence) } : null;
  }

  async revertReferral(
    consultationId: string,
    vetId: number,
    referral: Referral,
    offer: HeldOffer,
    now: number,
  ): Promise<"offered" | "queued" | null> {
    const args = [
      consultationId,
      vetId,
      JSON.stringify(referral),
      offer.offeredAt,
      offer.expiresAt,
      referral.species ?? "",
      referral.language ?? "",
      now,
    ];
    return json<"offered" | "queued" | null>(await this.lua.call("revertReferral", args));
  }

  // ---------- rebuild ----------

  async restoreWrapup(vetId: number, consultationId: string, until: number): Promise<boolean> {
    return json<boolean>(await this.lua.call("restoreWrapup", [vetId, consultationId, until]));
  }

  async liveEpoch(): Promise<string | null> {
    const v = await this.client.sendCommand(["GET", this.keys.epoch]);
    return typeof v === "string" ? v : null;
  }

  async claimRebuild(token: string, ttlMs: number): Promise<boolean> {
    return json<boolean>(await this.lua.call("claimRebuild", [token, Math.max(1, Math.floor(ttlMs))]));
  }

  async setLiveEpoch(epoch: string, token: string): Promise<boolean> {
    return json<boolean>(await this.lua.call("setLiveEpoch", [epoch, token]));
  }

  async transfer(
    consultationId: string,
    now: number,
    queueDeadline: number,
    opts: { ifVetOffline?: boolean } = {},
  ): Promise<TransferResult | null> {
    const w = json<{ consultation: WireConsultation; fromVetId: number; position: number } | null>(
      await this.lua.call("transfer", [consultationId, now, queueDeadline, opts.ifVetOffline ? "1" : "0"]),
    );
    return w ? { ...w, consultation: toConsultation(w.consultation) } : null;
  }

  // ---------- deadlines ----------

  async addDeadline(kind: DeadlineKind, ref: string, at: number): Promise<void> {
    // A single command is atomic already; re-adding moves the deadline (like the memory store).
    await this.client.sendCommand(["ZADD", this.keys.deadlines, String(at), `${kind}:${ref}`]);
  }

  async removeDeadline(kind: DeadlineKind, ref: string): Promise<void> {
    await this.client.sendCommand(["ZREM", this.keys.deadlines, `${kind}:${ref}`]);
  }

  async claimDue(now: number, limit: number): Promise<Deadline[]> {
    // LIMIT 0 -1 would mean "all" to Redis; the memory store's slice(0, n ≤ 0) is not "all".
    if (limit <= 0) return [];
    return list<Deadline>(json(await this.lua.call("claimDue", [now, Math.floor(limit)])));
  }

  // ---------- reads ----------

  /**
   * Page by page, each after the last queue score read: Redis serves other commands in
   * between. A consultation's score never changes while it is queued or offered, and one
   * that leaves can come back only at its old score or at the front (`revertAccept`,
   * `transfer`), so each appears at most once. One that comes back behind the read so far
   * (or is restored there) is missed until the next read.
   */
  async snapshot(): Promise<RoutingSnapshot> {
    const first = list<unknown>(await this.lua.call("snapshot", ["-inf", this.snapshotPage]));
    const snap = toSnapshot(first);
    // The third element: the score to read after (a string), nil after the last page.
    for (let after = first[2]; typeof after === "string";) {
      const page = list<unknown>(await this.lua.call("snapshot", [after, this.snapshotPage]));
      snap.queue.push(...toSnapshot(page).queue);
      after = page[2];
    }
    return snap;
  }

  async knownVets(): Promise<VetPresence[]> {
    return toSnapshot(await this.lua.call("snapshot", ["-inf", 0])).vets;
  }

  async headSnapshot(maxConsults: number, include: readonly string[] = []): Promise<RoutingSnapshot> {
    const reply = list<unknown>(await this.lua.call("headSnapshot", [maxConsults, ...include]));
    // The third element: 1 when a range of the head had more than it read.
    return { ...toSnapshot(reply), truncated: Number(reply[2]) === 1 };
  }

  close(): Promise<void> {
    // The client belongs to the caller.
    return Promise.resolve();
  }
}
