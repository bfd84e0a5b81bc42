/**
 * The {@link Ledger} in memory, for engine unit tests. It keeps every rule of the PostgreSQL
 * ledger (`src/repositories/ledger.ts`); `test/repositories/ledger-contract.ts` runs
 * against both, so the two cannot drift apart.
 */
import type {
  ConsultationRecord,
  FeedbackRecord,
  Ledger,
  OpenConsultationRecord,
  TransitionPatch,
  WrapupRecord,
} from "../../src/domain/ports.js";
import type {
  Care,
  ConsultationStatus,
  LiveConsultation,
  OfferOutcome,
  OpenStatus,
  PriorityClass,
} from "../../src/domain/types.js";

const TERMINAL = new Set<ConsultationStatus>(["ended", "cancelled", "expired"]);
const OPEN = new Set<ConsultationStatus>(["queued", "offered", "active"]);
/** Offer outcomes that keep a vet from being offered the same request again. */
const EXCLUDING = new Set<string>(["declined", "timeout", "disconnected", "away", "node_dead"]);

export interface MemoryOffer {
  consultationId: string;
  vetId: number;
  outcome: OfferOutcome | null;
  offeredAt: Date;
  expiresAt: Date;
  resolvedAt: Date | null;
}

export interface MemoryEvent {
  id: string;
  from: string | null;
  to: string;
  at: Date;
  detail: unknown;
}

interface Row extends ConsultationRecord {
  /** The time of the status now held: older status writes arriving late do not apply. */
  updatedAt: number;
  endedBy: string | null;
  endReason: string | null;
  requestedVetId: number | null;
  acceptedAt: number | null;
  language: string | null;
  emergency: boolean;
  species: string | null;
  priority: PriorityClass;
  region: string | null;
  care: Care;
  adviceFallback: boolean;
}

/** A vet's name as the feedback join finds it, or null for a vet that does not exist. */
export type VetNames = (vetId: number) => { firstName: string; lastName: string } | null;

/** Vets `First{id} Last{id}`, as `fakeDirectory` shows them. */
const defaultVetNames: VetNames = (vetId) => ({ firstName: `First${vetId}`, lastName: `Last${vetId}` });

/** Keeps the ledger in maps and arrays, with the PostgreSQL ledger's rules. */
export class MemoryLedger implements Ledger {
  readonly rows = new Map<string, Row>();
  readonly events: MemoryEvent[] = [];
  readonly offers: MemoryOffer[] = [];
  readonly feedback = new Map<string, FeedbackRecord & { vetId: number }>();

  constructor(private readonly vetNames: VetNames = defaultVetNames) {}

  create(c: LiveConsultation, source: "socket" | "rest"): Promise<void> {
    if (this.rows.has(c.id)) return Promise.reject(new Error(`consultation ${c.id} already exists`));
    this.rows.set(c.id, {
      id: c.id,
      appId: c.appId,
      userId: c.userId,
      petId: c.petId,
      type: c.type,
      status: c.status,
      vetId: c.vetId,
      channelSid: c.channelSid,
      roomSid: c.roomSid,
      createdAt: new Date(c.createdAt),
      endedAt: null,
      updatedAt: c.createdAt,
      endedBy: null,
      endReason: null,
      requestedVetId: c.requestedVetId,
      acceptedAt: c.acceptedAt,
      language: c.language ?? null,
      emergency: c.priority === "emergency",
      species: c.species ?? null,
      priority: c.priority ?? "normal",
      region: c.region ?? null,
      care: c.care ?? "treatment",
      adviceFallback: c.adviceFallback === true,
    });
    const detail = { source, ...(c.vetId !== null ? { vet_id: c.vetId } : {}) };
    this.events.push({ id: c.id, from: null, to: c.status, at: new Date(c.createdAt), detail });
    if (c.status === "active" && c.vetId !== null)
      this.spells.push({ consultationId: c.id, vetId: c.vetId, joinedAt: c.acceptedAt ?? c.createdAt, leftAt: null });
    return Promise.resolve();
  }

  transition(
    id: string,
    to: ConsultationStatus,
    at: number,
    patch: TransitionPatch = {},
    detail?: Record<string, unknown>,
  ): Promise<void> {
    this.apply(id, to, at, patch, detail);
    return Promise.resolve();
  }

  changeCare(id: string, care: Care, at: number, detail: Record<string, unknown>): Promise<boolean> {
    const r = this.rows.get(id);
    if (!r || (r.status !== "queued" && r.status !== "offered")) return Promise.resolve(false);
    if (r.care === care) return Promise.resolve(true);
    r.care = care;
    this.events.push({ id, from: r.status, to: r.status, at: new Date(at), detail });
    return Promise.resolve(true);
  }

  offerMade(
    consultationId: string,
    vetId: number,
    offeredAt: number,
    expiresAt: number,
    requested: boolean,
  ): Promise<void> {
    if (!this.rows.has(consultationId)) return Promise.reject(new Error(`unknown consultation ${consultationId}`));
    this.apply(consultationId, "offered", offeredAt, {}, { vet_id: vetId, requested });
    // The same offer already written (resolved by an accept that landed first) is kept.
    if (this.sameOffer(consultationId, vetId, offeredAt)) return Promise.resolve();
    this.offers.push({
      consultationId,
      vetId,
      outcome: null,
      offeredAt: new Date(offeredAt),
      expiresAt: new Date(expiresAt),
      resolvedAt: null,
    });
    return Promise.resolve();
  }

  offerEnded(
    consultationId: string,
    vetId: number,
    outcome: OfferOutcome,
    at: number,
    requeued: boolean,
    offer?: { offeredAt: number; expiresAt: number },
  ): Promise<void> {
    if (requeued) {
      this.apply(
        consultationId,
        "queued",
        at,
        { resolvedOffer: { vetId, outcome, ...offer } },
        { offer_outcome: outcome, vet_id: vetId },
      );
    } else if (offer) {
      if (!this.rows.has(consultationId)) return Promise.reject(new Error(`unknown consultation ${consultationId}`));
      this.upsertOffer(consultationId, vetId, outcome, offer.offeredAt, offer.expiresAt, at);
    } else {
      this.resolveOffer(consultationId, vetId, outcome, at);
    }
    return Promise.resolve();
  }

  setSids(id: string, sids: { channelSid?: string; roomSid?: string }): Promise<void> {
    const r = this.rows.get(id);
    if (r) {
      r.channelSid = sids.channelSid ?? r.channelSid;
      r.roomSid = sids.roomSid ?? r.roomSid;
    }
    return Promise.resolve();
  }

  /** Vets' spells per consultation (the PostgreSQL ledger's `consultation_vets`). */
  readonly spells: Array<{ consultationId: string; vetId: number; joinedAt: number; leftAt: number | null }> = [];

  referralOffered(consultationId: string, vetId: number, offeredAt: number, expiresAt: number): Promise<void> {
    const r = this.rows.get(consultationId);
    if (!r) return Promise.reject(new Error(`unknown consultation ${consultationId}`));
    if (!this.sameOffer(consultationId, vetId, offeredAt)) {
      this.offers.push({
        consultationId,
        vetId,
        outcome: null,
        offeredAt: new Date(offeredAt),
        expiresAt: new Date(expiresAt),
        resolvedAt: null,
      });
    }
    this.events.push({
      id: consultationId,
      from: r.status,
      to: r.status,
      at: new Date(offeredAt),
      detail: { referral: "offered", vet_id: vetId },
    });
    return Promise.resolve();
  }

  referralAccepted(
    consultationId: string,
    toVetId: number,
    fromVetId: number,
    cold: boolean,
    at: number,
    offer: { offeredAt: number; expiresAt: number },
    detail: Record<string, unknown>,
  ): Promise<void> {
    const r = this.rows.get(consultationId);
    if (r?.status !== "active" || r.vetId === toVetId) return Promise.resolve();
    if (cold)
      for (const s of this.spells)
        if (s.consultationId === consultationId && s.vetId === fromVetId && s.leftAt === null) s.leftAt = at;
    this.spells.push({ consultationId, vetId: toVetId, joinedAt: at, leftAt: null });
    this.upsertOffer(consultationId, toVetId, "accepted", offer.offeredAt, offer.expiresAt, at);
    r.vetId = toVetId;
    this.events.push({ id: consultationId, from: "active", to: "active", at: new Date(at), detail });
    return Promise.resolve();
  }

  vetLeft(consultationId: string, vetId: number, at: number, detail: Record<string, unknown>): Promise<void> {
    const r = this.rows.get(consultationId);
    const open = this.spells.filter(
      (s) => s.consultationId === consultationId && s.vetId === vetId && s.leftAt === null,
    );
    if (!r || open.length === 0) return Promise.resolve();
    for (const s of open) s.leftAt = at;
    this.events.push({ id: consultationId, from: r.status, to: r.status, at: new Date(at), detail });
    return Promise.resolve();
  }

  note(id: string, at: number, detail: Record<string, unknown>): Promise<void> {
    const r = this.rows.get(id);
    if (r) this.events.push({ id, from: r.status, to: r.status, at: new Date(at), detail });
    return Promise.resolve();
  }

  get(id: string): Promise<ConsultationRecord | null> {
    const r = this.rows.get(id);
    return Promise.resolve(r ? record(r) : null);
  }

  findByChannel(appId: number, sid: string): Promise<ConsultationRecord | null> {
    return this.findBy((r) => r.appId === appId && r.channelSid === sid);
  }

  findByRoom(appId: number, sid: string): Promise<ConsultationRecord | null> {
    return this.findBy((r) => r.appId === appId && r.roomSid === sid);
  }

  saveFeedback(
    consultationId: string,
    vetId: number,
    recommendation: string,
    reason: string,
    at: number,
    outcome: string | null = null,
  ): Promise<void> {
    const r = this.rows.get(consultationId);
    const names = this.vetNames(vetId);
    if (!r) return Promise.reject(new Error(`unknown consultation ${consultationId}`));
    if (!names) return Promise.reject(new Error(`unknown vet ${vetId}`));
    this.feedback.set(consultationId, {
      consultationId,
      vetId,
      type: r.type,
      vetFirstName: names.firstName,
      vetLastName: names.lastName,
      recommendation,
      reason,
      outcome,
      updatedAt: new Date(at),
    });
    return Promise.resolve();
  }

  findFeedback(consultationId: string): Promise<FeedbackRecord | null> {
    const f = this.feedback.get(consultationId);
    if (!f) return Promise.resolve(null);
    const { vetId: _vetId, ...rest } = f;
    return Promise.resolve(rest);
  }

  openConsultations(): Promise<OpenConsultationRecord[]> {
    const open = [...this.rows.values()].filter((r) => OPEN.has(r.status));
    open.sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime());
    return Promise.resolve(
      open.map((r) => ({
        id: r.id,
        appId: r.appId,
        userId: r.userId,
        petId: r.petId,
        type: r.type,
        status: r.status as OpenStatus,
        requestedVetId: r.requestedVetId,
        vetId: r.vetId,
        channelSid: r.channelSid,
        roomSid: r.roomSid,
        createdAt: r.createdAt.getTime(),
        acceptedAt: r.acceptedAt,
        excludedVetIds: [
          ...new Set([
            ...this.offers
              .filter((o) => o.consultationId === r.id && o.outcome !== null && EXCLUDING.has(o.outcome))
              .map((o) => o.vetId),
            ...this.handovers(r.id).flatMap((e) =>
              typeof e.detail.from_vet_id === "number" ? [e.detail.from_vet_id] : [],
            ),
          ]),
        ].sort((a, b) => a - b),
        species: r.species,
        language: r.language,
        priority: r.priority,
        transferredAt: this.lastHandover(r.id)?.at.getTime() ?? null,
        region: r.region,
        care: r.care,
        adviceFallback: r.adviceFallback,
      })),
    );
  }

  /** Hand-over events (`queued` with reason `vet_left`) of a consultation, oldest first. */
  private handovers(id: string): Array<{ at: Date; detail: Record<string, unknown> }> {
    return this.events
      .filter(
        (e) => e.id === id && e.to === "queued" && (e.detail as { reason?: unknown } | null)?.reason === "vet_left",
      )
      .map((e) => ({ at: e.at, detail: e.detail as Record<string, unknown> }));
  }

  private lastHandover(id: string): { at: Date } | undefined {
    return this.handovers(id).at(-1);
  }

  recentWrapups(since: number): Promise<WrapupRecord[]> {
    const rows = [...this.rows.values()].filter(
      (r) =>
        r.status === "ended" &&
        r.vetId !== null &&
        r.endedAt !== null &&
        r.endedAt.getTime() > since &&
        !this.feedback.has(r.id),
    );
    rows.sort((a, b) => (a.endedAt?.getTime() ?? 0) - (b.endedAt?.getTime() ?? 0));
    return Promise.resolve(
      rows.map((r) => ({ vetId: r.vetId ?? 0, consultationId: r.id, endedAt: r.endedAt?.getTime() ?? 0 })),
    );
  }

  /** Every event of one consultation, oldest first (as `ConsultationLedger.history`). */
  history(id: string): Promise<Array<{ from: string | null; to: string; at: Date; detail: unknown }>> {
    const events = this.events.filter((e) => e.id === id);
    // Stable sort by time: equal times keep their write order, like the table's serial id.
    events.sort((a, b) => a.at.getTime() - b.at.getTime());
    return Promise.resolve(events.map(({ from, to, at, detail }) => ({ from, to, at, detail })));
  }

  /** Offers of one consultation, oldest first (as `ConsultationLedger.offersOf`). */
  offersOf(id: string): Promise<Array<{ vetId: number; outcome: string | null }>> {
    return Promise.resolve(
      this.offers.filter((o) => o.consultationId === id).map(({ vetId, outcome }) => ({ vetId, outcome })),
    );
  }

  /**
   * One transition: the event is always kept; the status moves only forward in time and
   * never out of a terminal one; patch fields apply whenever given.
   */
  private apply(
    id: string,
    to: ConsultationStatus,
    at: number,
    patch: TransitionPatch,
    detail: Record<string, unknown> | undefined,
  ): void {
    const r = this.rows.get(id);
    if (!r) return;
    this.events.push({ id, from: r.status, to, at: new Date(at), detail: detail ?? null });
    const terminal = TERMINAL.has(to);
    if (!TERMINAL.has(r.status) && (terminal || r.updatedAt <= at)) {
      // The vets' spells, as the PostgreSQL statement keeps them.
      const newVet = to === "active" && patch.vetId !== undefined && (r.status !== "active" || r.vetId !== patch.vetId);
      if (newVet || to === "queued" || terminal)
        for (const s of this.spells) if (s.consultationId === id && s.leftAt === null) s.leftAt = at;
      if (newVet) this.spells.push({ consultationId: id, vetId: patch.vetId!, joinedAt: at, leftAt: null });
      r.status = to;
      r.updatedAt = at;
      if (terminal) r.endedAt = new Date(at);
    }
    if (to === "active") r.acceptedAt ??= at;
    r.vetId = patch.vetId ?? r.vetId;
    r.channelSid = patch.channelSid ?? r.channelSid;
    r.roomSid = patch.roomSid ?? r.roomSid;
    r.endedBy = patch.endedBy ?? r.endedBy;
    r.endReason = patch.endReason ?? r.endReason;
    const resolved = patch.resolvedOffer;
    if (resolved?.offeredAt !== undefined && resolved.expiresAt !== undefined) {
      this.upsertOffer(id, resolved.vetId, resolved.outcome, resolved.offeredAt, resolved.expiresAt, at);
    } else if (resolved) this.resolveOffer(id, resolved.vetId, resolved.outcome, at);
  }

  private sameOffer(consultationId: string, vetId: number, offeredAt: number): MemoryOffer | undefined {
    return this.offers.find(
      (o) => o.consultationId === consultationId && o.vetId === vetId && o.offeredAt.getTime() === offeredAt,
    );
  }

  /** Resolves one known offer, writing its row resolved when `offerMade` has not landed yet. */
  private upsertOffer(
    consultationId: string,
    vetId: number,
    outcome: OfferOutcome,
    offeredAt: number,
    expiresAt: number,
    at: number,
  ): void {
    const row = this.sameOffer(consultationId, vetId, offeredAt);
    if (!row) {
      const resolvedAt = new Date(at);
      this.offers.push({
        consultationId,
        vetId,
        outcome,
        offeredAt: new Date(offeredAt),
        expiresAt: new Date(expiresAt),
        resolvedAt,
      });
    } else if (row.outcome === null) {
      row.outcome = outcome;
      row.resolvedAt = new Date(at);
    }
  }

  /** Resolves the newest open offer of the pair, if any. */
  private resolveOffer(consultationId: string, vetId: number, outcome: OfferOutcome, at: number): void {
    const open = this.offers.filter(
      (o) => o.consultationId === consultationId && o.vetId === vetId && o.outcome === null,
    );
    const newest = open.at(-1);
    if (newest) {
      newest.outcome = outcome;
      newest.resolvedAt = new Date(at);
    }
  }

  private findBy(match: (r: Row) => boolean): Promise<ConsultationRecord | null> {
    for (const r of this.rows.values()) if (match(r)) return Promise.resolve(record(r));
    return Promise.resolve(null);
  }
}

/** The port's view of a row: a copy, so callers cannot change the ledger by accident. */
function record(r: Row): ConsultationRecord {
  return {
    id: r.id,
    appId: r.appId,
    userId: r.userId,
    petId: r.petId,
    type: r.type,
    status: r.status,
    vetId: r.vetId,
    channelSid: r.channelSid,
    roomSid: r.roomSid,
    createdAt: r.createdAt,
    endedAt: r.endedAt,
  };
}
