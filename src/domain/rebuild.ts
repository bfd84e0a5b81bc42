/**
 * Rebuild of the live state from the ledger (PROTOCOL §6). The store carries an epoch
 * marker; a store without one was lost (Redis restarted empty, flushed, failed over) or is
 * new (a fresh memory store at start). The first node to notice takes the rebuild lock,
 * restores every open consultation and recent wrap-up from the ledger and sets a new
 * marker; nodes noticing at the same moment wait for the marker instead. Every node, on
 * seeing a new epoch, registers again the vet and owner sockets it holds, with each vet's
 * last chosen status, so clients carry on without reconnecting.
 */
import { randomBytes } from "node:crypto";
import type { Clock } from "../lib/clock.js";
import { forEachLimited } from "../lib/concurrency.js";
import type { Logger } from "../lib/logger.js";
import type { RoutingConfig } from "./engine-config.js";
import type { Directory, Ledger, OpenConsultationRecord } from "./ports.js";
import { DEFAULT_LICENSE_WAIT_MS } from "./routing-rules.js";
import type { RoutingStore } from "./routing-store.js";
import type { LiveConsultation, RequestProfile, VetChosenStatus } from "./types.js";

/** How long a node may hold the rebuild lock before another takes over. */
const LOCK_TTL_MS = 30_000;
/** Owners restored at once: each restore is a few round trips, and a backlog can be thousands. */
const RESTORE_CONCURRENCY = 16;

/** The sockets this node holds, as the transport knows them. */
export interface LocalConnections {
  vets: Array<{ vetId: number; connId: string }>;
  users: Array<{ appId: number; userId: number; connId: string }>;
}

/** What one rebuild restored. */
export interface RebuildReport {
  epoch: string;
  queued: number;
  active: number;
  wrapups: number;
  /** Open in the ledger but not restored (already live, or the user has another open one). */
  skipped: number;
  /** Of those, closed as duplicates (the user has another open one). */
  closed: number;
}

/** `same`: nothing changed; `changed`: a new epoch (rebuilt here or elsewhere); `wait`: another node is rebuilding. */
export type EpochCheck = "same" | "changed" | "wait";

export interface RebuilderDeps {
  store: RoutingStore;
  ledger: Ledger;
  directory: Directory;
  clock: Clock;
  logger: Logger;
  nodeId: string;
  routing: RoutingConfig;
  /** The sockets this node holds (none when absent, e.g. engine unit tests). */
  localConnections?: (() => LocalConnections) | undefined;
  /** Called after each rebuild this node ran (metrics). */
  onRebuilt?: ((report: RebuildReport) => void) | undefined;
  newToken?: () => string;
}

export class Rebuilder {
  private readonly deps: RebuilderDeps;
  /** The epoch this node last saw; null before the first check. */
  private epoch: string | null = null;
  /** Each vet's last chosen status, so a re-registered vet comes back as it was. */
  private readonly vetStatus = new Map<number, VetChosenStatus>();
  /** This node's rebuild lock token, made on first use. */
  private lockToken: string | null = null;
  /** The check running now, if any. */
  private checking: Promise<EpochCheck> | null = null;

  constructor(deps: RebuilderDeps) {
    this.deps = deps;
  }

  /** Remembers the status a vet chose (or was given, e.g. `away` on an offer timeout). */
  noteVetStatus(vetId: number, status: VetChosenStatus): void {
    this.vetStatus.set(vetId, status);
  }

  /** True when the store's marker is not the epoch this node knows (lost or rebuilt elsewhere). */
  async epochChanged(): Promise<boolean> {
    return (await this.deps.store.liveEpoch()) !== this.epoch;
  }

  /**
   * Compares the store's marker with the epoch this node knows: rebuilds when it is missing
   * and this node wins the lock, and re-registers this node's sockets on any new epoch.
   */
  check(): Promise<EpochCheck> {
    // One check at a time per node: the lock is re-entrant for this node's token, so two
    // overlapping checks (the first tick and the timer's) would both rebuild.
    this.checking ??= this.runCheck().finally(() => (this.checking = null));
    return this.checking;
  }

  private async runCheck(): Promise<EpochCheck> {
    const { store, logger } = this.deps;
    let current = await store.liveEpoch();
    if (current !== null && current === this.epoch) return "same";
    if (current === null) {
      // One token per node: after a rebuild of its own failed (database away), this node
      // takes its own lock again at once rather than every node waiting out LOCK_TTL_MS.
      const token = (this.lockToken ??= this.token());
      if (!(await store.claimRebuild(token, LOCK_TTL_MS))) return "wait";
      // Another node may have set the marker and freed the lock between the read and the claim.
      current = await store.liveEpoch();
      if (current === null) {
        const epoch = this.token();
        const report = await this.rebuild(epoch);
        if (!(await store.setLiveEpoch(epoch, token))) {
          logger.warn({ node: this.deps.nodeId }, "live state lost again during the rebuild: rebuilding again");
          return "wait";
        }
        current = epoch;
        logger.warn({ node: this.deps.nodeId, ...report }, "live state rebuilt from the database");
        this.deps.onRebuilt?.(report);
      } else {
        if (!(await store.setLiveEpoch(current, token))) return "wait"; // same marker; frees the lock
      }
    }
    this.epoch = current;
    await this.reregister();
    return "changed";
  }

  /** Restores every open consultation and recent wrap-up from the ledger. */
  private async rebuild(epoch: string): Promise<RebuildReport> {
    const { store, ledger, clock, routing } = this.deps;
    const report: RebuildReport = { epoch, queued: 0, active: 0, wrapups: 0, skipped: 0, closed: 0 };
    // Per owner newest first (the queue order comes from `seq`, the creation time): when a user
    // has two open, the one their retry last got back wins. Owners are restored side by side.
    const byOwner = new Map<string, OpenConsultationRecord[]>();
    for (const r of (await ledger.openConsultations()).reverse()) {
      const key = `${r.appId}:${r.userId}`;
      const list = byOwner.get(key);
      if (list) list.push(r);
      else byOwner.set(key, [r]);
    }
    await forEachLimited([...byOwner.values()], RESTORE_CONCURRENCY, async (records) => {
      for (const r of records) await this.restoreOne(r, report);
    });
    if (routing.wrapupMs > 0) {
      const now = clock.now();
      for (const w of await ledger.recentWrapups(now - routing.wrapupMs)) {
        if (await store.restoreWrapup(w.vetId, w.consultationId, w.endedAt + routing.wrapupMs)) report.wrapups++;
      }
    }
    return report;
  }

  private async restoreOne(r: OpenConsultationRecord, report: RebuildReport): Promise<void> {
    const { store, ledger, clock } = this.deps;
    // Restored by an attempt that failed later (database away): no profile read again, so
    // each retry gets further instead of starting over.
    if (await store.getConsultation(r.id)) {
      report.skipped++;
      return;
    }
    const c = await this.live(r);
    if (await store.restore(c)) {
      if (c.status === "active") report.active++;
      else report.queued++;
      return;
    }
    report.skipped++;
    // The user has another open one (their retry queued it while this one was lost with
    // Redis): one open consultation per user, so this one is closed, not left open forever.
    if (!(await store.getConsultation(r.id))) {
      await ledger.transition(r.id, "cancelled", clock.now(), { endReason: "duplicate" });
      report.closed++;
    }
  }

  /** The live form of a ledger record: offered ones queued again, in created order. */
  private async live(r: OpenConsultationRecord): Promise<LiveConsultation> {
    const active = r.status === "active" && r.vetId !== null;
    return {
      id: r.id,
      appId: r.appId,
      userId: r.userId,
      petId: r.petId,
      type: r.type,
      status: active ? "active" : "queued",
      // The creation time keeps the original order and sorts after nothing enqueued later.
      seq: r.createdAt,
      createdAt: r.createdAt,
      // A handed-over one waits anew from its hand-over, as `transfer` set it.
      queueDeadline:
        (!active && r.transferredAt !== null ? r.transferredAt : r.createdAt) + this.deps.routing.queueTimeoutMs,
      requestedVetId: r.requestedVetId,
      offer: null,
      excludedVetIds: r.excludedVetIds,
      vetId: active ? r.vetId : null,
      acceptedAt: active ? (r.acceptedAt ?? r.createdAt) : null,
      channelSid: r.channelSid,
      roomSid: r.roomSid,
      species: r.species,
      language: r.language,
      priority: r.priority,
      region: r.region,
      care: r.care,
      adviceFallback: r.adviceFallback,
      careDeadline: this.careDeadline(r, active),
      ...(!active && r.transferredAt !== null ? { transferred: true } : {}),
      profile: await this.profile(r),
    };
  }

  /**
   * A waiting treatment request that may become advice does so `LICENSE_WAIT_MS` after it was
   * made; one a vet already took (waiting again after a hand-over) never does, as live.
   */
  private careDeadline(r: OpenConsultationRecord, active: boolean): number | null {
    const { licensing, licenseWaitMs } = this.deps.routing;
    if (active || r.transferredAt !== null || r.acceptedAt !== null) return null;
    if (!licensing || !r.adviceFallback || r.care !== "treatment") return null;
    return r.createdAt + (licenseWaitMs ?? DEFAULT_LICENSE_WAIT_MS);
  }

  private async profile(r: OpenConsultationRecord): Promise<RequestProfile> {
    const fallback: RequestProfile = { user: { id: r.userId, first_name: "", last_name: null, email: "" }, pet: null };
    if (r.petId === null) return fallback;
    const p = await this.deps.directory.requestProfile(r.appId, r.userId, r.petId);
    return "missing" in p ? fallback : p;
  }

  /** Registers this node's sockets in the (new) live state, vets with their last status. */
  private async reregister(): Promise<void> {
    const local = this.deps.localConnections?.();
    if (!local) return;
    const { store, clock, nodeId } = this.deps;
    const now = clock.now();
    for (const u of local.users) await store.addUserConnection(u.appId, u.userId, u.connId, nodeId);
    const seen = new Set<number>();
    for (const v of local.vets) {
      // Fresh: a cached copy may predate a skills PATCH served by another node.
      const skills = seen.has(v.vetId) ? undefined : (await this.deps.directory.vet(v.vetId, { fresh: true }))?.skills;
      await store.addVetConnection(v.vetId, v.connId, nodeId, now, skills);
      seen.add(v.vetId);
    }
    for (const vetId of seen) {
      if (this.vetStatus.get(vetId) === "available") await store.setVetStatus(vetId, "available", now);
    }
  }

  private token(): string {
    return this.deps.newToken?.() ?? randomBytes(9).toString("base64url");
  }
}
