/**
 * In-process stand-ins for the engine's ports, for unit tests of domain logic only
 * (integration tests use the real PostgreSQL ledger and Socket.IO notifier).
 */
import { ManualClock } from "../../src/lib/clock.js";
import { createLogger } from "../../src/lib/logger.js";
import { ConsultationEngine, type RoutingConfig } from "../../src/domain/consultation-engine.js";
import type {
  ConsultationRecord,
  Directory,
  FeedbackRecord,
  Ledger,
  Notifier,
  TokenMinter,
} from "../../src/domain/ports.js";
import type { RoutingStore } from "../../src/domain/routing-store.js";
import type { LiveConsultation } from "../../src/domain/types.js";
import { createOfflineProvider } from "../../src/twilio/offline-provider.js";

export interface SentEvent {
  to: string;
  event: string;
  payload: any;
}

/** Records every event; `to` is `vet:{id}` or `user:{appId}:{userId}`. */
export class RecordingNotifier implements Notifier {
  readonly events: SentEvent[] = [];
  toVet(vetId: number, event: string, payload: unknown): void {
    this.events.push({ to: `vet:${vetId}`, event, payload });
  }
  toUser(appId: number, userId: number, event: string, payload: unknown): void {
    this.events.push({ to: `user:${appId}:${userId}`, event, payload });
  }
  of(to: string, event?: string): any[] {
    return this.events.filter((e) => e.to === to && (!event || e.event === event)).map((e) => e.payload);
  }
  clear(): void {
    this.events.length = 0;
  }
}

/** Keeps history in arrays, mirroring what the PostgreSQL ledger stores. */
export class MemoryLedger implements Ledger {
  readonly rows = new Map<string, ConsultationRecord>();
  readonly transitions: Array<{ id: string; to: string; detail?: Record<string, unknown> }> = [];
  readonly offers: Array<{ consultationId: string; vetId: number; outcome: string | null }> = [];
  readonly feedback = new Map<string, FeedbackRecord & { vetId: number }>();

  create(c: LiveConsultation): Promise<void> {
    this.rows.set(c.id, {
      id: c.id,
      appId: c.appId,
      userId: c.userId,
      petId: c.petId,
      type: c.type,
      status: c.status,
      vetId: c.vetId,
      channelSid: null,
      roomSid: null,
      createdAt: new Date(c.createdAt),
      endedAt: null,
    });
    this.transitions.push({ id: c.id, to: c.status });
    return Promise.resolve();
  }
  transition(id: string, to: any, _at: number, patch: any = {}, detail?: Record<string, unknown>): Promise<void> {
    const r = this.rows.get(id);
    if (r) {
      r.status = to;
      if (patch.vetId !== undefined) r.vetId = patch.vetId;
      if (patch.channelSid !== undefined) r.channelSid = patch.channelSid;
      if (patch.resolvedOffer) {
        const o = this.offers.find((x) => x.consultationId === id && x.vetId === patch.resolvedOffer.vetId && x.outcome === null);
        if (o) o.outcome = patch.resolvedOffer.outcome;
      }
      if (patch.roomSid !== undefined) r.roomSid = patch.roomSid;
    }
    this.transitions.push({ id, to, ...(detail ? { detail } : {}) });
    return Promise.resolve();
  }
  setSids(id: string, sids: { channelSid?: string; roomSid?: string }): Promise<void> {
    const r = this.rows.get(id);
    if (r) Object.assign(r, sids);
    return Promise.resolve();
  }
  note(): Promise<void> {
    return Promise.resolve();
  }
  async offerMade(consultationId: string, vetId: number, _at: number, _exp: number, requested: boolean): Promise<void> {
    this.offers.push({ consultationId, vetId, outcome: null });
    await this.transition(consultationId, "offered", 0, {}, { vet_id: vetId, requested });
  }
  async offerEnded(consultationId: string, vetId: number, outcome: string, _at: number, requeued: boolean): Promise<void> {
    const o = this.offers.find((x) => x.consultationId === consultationId && x.vetId === vetId && x.outcome === null);
    if (o) o.outcome = outcome;
    if (requeued) await this.transition(consultationId, "queued", 0, {}, { offer_outcome: outcome, vet_id: vetId });
  }
  get(id: string): Promise<ConsultationRecord | null> {
    return Promise.resolve(this.rows.get(id) ?? null);
  }
  findByChannel(appId: number, sid: string): Promise<ConsultationRecord | null> {
    return Promise.resolve([...this.rows.values()].find((r) => r.appId === appId && r.channelSid === sid) ?? null);
  }
  findByRoom(appId: number, sid: string): Promise<ConsultationRecord | null> {
    return Promise.resolve([...this.rows.values()].find((r) => r.appId === appId && r.roomSid === sid) ?? null);
  }
  saveFeedback(consultationId: string, vetId: number, recommendation: string, reason: string, at: number): Promise<void> {
    const r = this.rows.get(consultationId)!;
    this.feedback.set(consultationId, {
      consultationId,
      vetId,
      type: r.type,
      vetFirstName: `First${vetId}`,
      vetLastName: `Last${vetId}`,
      recommendation,
      reason,
      updatedAt: new Date(at),
    });
    return Promise.resolve();
  }
  findFeedback(consultationId: string): Promise<FeedbackRecord | null> {
    return Promise.resolve(this.feedback.get(consultationId) ?? null);
  }
}

/** Users 1..99 of app 1 with pets 1..99; vets 1..99 with emails `vet{id}@example.com`. */
export const fakeDirectory: Directory = {
  requestProfile: (appId, userId, petId) =>
    Promise.resolve(
      userId > 99
        ? { missing: "user" as const }
        : petId > 99
          ? { missing: "pet" as const }
          : {
              user: { id: userId, first_name: `U${userId}`, last_name: null, email: `u${userId}@example.com` },
              pet: { id: petId, name: `Pet${petId}` },
            },
    ),
  vet: (vetId) =>
    Promise.resolve({
      card: { id: `app-1_vet-${vetId}`, username: `First${vetId} Last${vetId}`, profile_image: null },
      firstName: `First${vetId}`,
      lastName: `Last${vetId}`,
    }),
  vetIdByEmail: (email) => {
    const m = /^vet(\d+)@example\.com$/.exec(email);
    return Promise.resolve(m ? Number(m[1]) : null);
  },
};

export const fakeTokens: TokenMinter = {
  forUser: (appId, userId, room) => ({
    identity: `local-app-${appId}_user-${userId}`,
    token: `utok-${appId}-${userId}${room ? `-${room}` : ""}`,
    expiresAt: 0,
  }),
  forVet: (vetId, room) => ({ identity: `app-1_vet-${vetId}`, token: `vtok-${vetId}${room ? `-${room}` : ""}`, expiresAt: 0 }),
};

export const TEST_ROUTING: RoutingConfig = {
  vetMaxConsults: 1,
  offerTimeoutMs: 30_000,
  queueTimeoutMs: 600_000,
  userGraceMs: 60_000,
  presenceTtlMs: 15_000,
  wrapupMs: 60_000,
};

export function makeEngine(
  store: RoutingStore,
  opts: { routing?: Partial<RoutingConfig>; nodeId?: string; clock?: ManualClock; onNodeReaped?: () => void } = {},
) {
  const clock = opts.clock ?? new ManualClock();
  const notifier = new RecordingNotifier();
  const ledger = new MemoryLedger();
  const logger = createLogger("silent");
  let n = 0;
  const engine = new ConsultationEngine({
    store,
    ledger,
    notifier,
    directory: fakeDirectory,
    tokens: fakeTokens,
    twilio: createOfflineProvider(logger),
    clock,
    logger,
    nodeId: opts.nodeId ?? "node-a",
    routing: { ...TEST_ROUTING, ...opts.routing },
    ...(opts.onNodeReaped ? { onNodeReaped: opts.onNodeReaped } : {}),
    newId: () => `${opts.nodeId ?? "node-a"}-c${++n}`,
  });
  return { engine, clock, notifier, ledger };
}
