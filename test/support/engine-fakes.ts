/**
 * In-process stand-ins for the engine's ports, for unit tests of domain logic only
 * (integration tests use the real PostgreSQL ledger and Socket.IO notifier).
 */
import { ManualClock } from "../../src/lib/clock.js";
import { createLogger } from "../../src/lib/logger.js";
import { ConsultationEngine, type RoutingConfig } from "../../src/domain/consultation-engine.js";
import type { Sleep } from "../../src/domain/ledger-writer.js";
import type { ChatLog, ChatMessageRecord, Directory, Notifier, TokenMinter } from "../../src/domain/ports.js";
import type { RoutingStore } from "../../src/domain/routing-store.js";
import type { VetSkills } from "../../src/domain/types.js";
import { createOfflineProvider } from "../../src/twilio/offline-provider.js";
import { MemoryLedger } from "./memory-ledger.js";

// Engine tests import the ledger from here too.
export { MemoryLedger };

/**
 * A {@link MemoryLedger} whose writes fail while `down` (like PostgreSQL cut off), or the
 * next `failNext` writes. Reads keep working: record-first is about writes.
 */
export class FlakyLedger extends MemoryLedger {
  down = false;
  failNext = 0;
  /** Writes refused so far. */
  refused = 0;

  private gate(): Promise<never> | null {
    if (!this.down && this.failNext <= 0) return null;
    if (this.failNext > 0) this.failNext--;
    this.refused++;
    return Promise.reject(Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:5432"), { code: "ECONNREFUSED" }));
  }

  override create(...a: Parameters<MemoryLedger["create"]>) {
    return this.gate() ?? super.create(...a);
  }
  override transition(...a: Parameters<MemoryLedger["transition"]>) {
    return this.gate() ?? super.transition(...a);
  }
  override offerMade(...a: Parameters<MemoryLedger["offerMade"]>) {
    return this.gate() ?? super.offerMade(...a);
  }
  override offerEnded(...a: Parameters<MemoryLedger["offerEnded"]>) {
    return this.gate() ?? super.offerEnded(...a);
  }
  override setSids(...a: Parameters<MemoryLedger["setSids"]>) {
    return this.gate() ?? super.setSids(...a);
  }
  override note(...a: Parameters<MemoryLedger["note"]>) {
    return this.gate() ?? super.note(...a);
  }
  override saveFeedback(...a: Parameters<MemoryLedger["saveFeedback"]>) {
    return this.gate() ?? super.saveFeedback(...a);
  }
  override changeCare(...a: Parameters<MemoryLedger["changeCare"]>) {
    return this.gate() ?? super.changeCare(...a);
  }
  override referralOffered(...a: Parameters<MemoryLedger["referralOffered"]>) {
    return this.gate() ?? super.referralOffered(...a);
  }
  override referralAccepted(...a: Parameters<MemoryLedger["referralAccepted"]>) {
    return this.gate() ?? super.referralAccepted(...a);
  }
  override vetLeft(...a: Parameters<MemoryLedger["vetLeft"]>) {
    return this.gate() ?? super.vetLeft(...a);
  }
}

export interface SentEvent {
  to: string;
  event: string;
  payload: any;
}

/** Species of fake pets by pet id (tests set and clear it). */
export const fakeSpecies = new Map<number, string>();
/** Skills of fake vets by vet id, over the defaults (tests set and clear it). */
export const fakeSkills = new Map<number, Partial<VetSkills>>();
/** Owners' regions (PROTOCOL §4) by user id; none by default (tests set and clear it). */
export const fakeRegions = new Map<number, string>();

/** Records every event; `to` is `vet:{id}` or `user:{appId}:{userId}`. */
export class RecordingNotifier implements Notifier {
  readonly events: SentEvent[] = [];
  toVet(vetId: number, event: string, payload: unknown): void {
    this.events.push({ to: `vet:${vetId}`, event, payload });
  }
  toUser(appId: number, userId: number, event: string, payload: unknown): void {
    this.events.push({ to: `user:${appId}:${userId}`, event, payload });
  }
  /** One node holding every socket. */
  holdsUser(): boolean {
    return true;
  }
  toLocalUser(appId: number, userId: number, event: string, payload: unknown): void {
    this.toUser(appId, userId, event, payload);
  }
  of(to: string, event?: string): any[] {
    return this.events.filter((e) => e.to === to && (!event || e.event === event)).map((e) => e.payload);
  }
  clear(): void {
    this.events.length = 0;
  }
}

/** Pet id → its earlier consultations (`history_count`, PROTOCOL §10); absent: none. Tests set and clear it. */
export const fakeHistoryCounts = new Map<number, number>();

/**
 * Users 1..99 of app 1 with pets 1..99; vets 1..99 with emails `vet{id}@example.com`.
 * Routing data (PROTOCOL §4): users 90..99 are subscribed `protect_users` owners; pet
 * `species` comes from {@link fakeSpecies} (none by default, which any vet takes); owners'
 * `region` from {@link fakeRegions} (none by default); vets have the default skills (licensed
 * nowhere) unless {@link fakeSkills} says otherwise.
 */
export const fakeDirectory: Directory = {
  requestProfile: (appId, userId, petId) =>
    Promise.resolve(
      userId > 99
        ? { missing: "user" as const }
        : petId > 99
          ? { missing: "pet" as const }
          : {
              user: { id: userId, first_name: `U${userId}`, last_name: null, email: `u${userId}@example.com` },
              pet: {
                id: petId,
                name: `Pet${petId}`,
                ...(fakeSpecies.has(petId) ? { species: fakeSpecies.get(petId) } : {}),
              },
              ...(userId >= 90 ? { protectedOwner: true } : {}),
              ...(fakeRegions.has(userId) ? { region: fakeRegions.get(userId) } : {}),
              ...(fakeHistoryCounts.has(petId) ? { historyCount: fakeHistoryCounts.get(petId) } : {}),
            },
    ),
  vet: (vetId) =>
    Promise.resolve({
      card: { id: `app-1_vet-${vetId}`, username: `First${vetId} Last${vetId}`, profile_image: null },
      firstName: `First${vetId}`,
      lastName: `Last${vetId}`,
      skills: { species: [], languages: ["en"], maxChats: null, version: 0, ...fakeSkills.get(vetId) },
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
  forVet: (vetId, room) => ({
    identity: `app-1_vet-${vetId}`,
    token: `vtok-${vetId}${room ? `-${room}` : ""}`,
    expiresAt: 0,
  }),
};

/** The chat log in memory (engine tests): ids grow in storage order, as in PostgreSQL. */
export class MemoryChatLog implements ChatLog {
  readonly messages: ChatMessageRecord[] = [];
  private next = 0;

  append(m: Omit<ChatMessageRecord, "id">): Promise<ChatMessageRecord> {
    const stored = { ...m, id: String(++this.next) };
    this.messages.push(stored);
    return Promise.resolve(stored);
  }

  page(consultationId: string, before: string | null, limit: number): Promise<ChatMessageRecord[]> {
    const mine = this.messages.filter(
      (m) => m.consultationId === consultationId && (before === null || Number(m.id) < Number(before)),
    );
    return Promise.resolve(mine.slice(-limit));
  }
}

export const TEST_ROUTING: RoutingConfig = {
  vetMaxConsults: 1,
  offerTimeoutMs: 30_000,
  queueTimeoutMs: 600_000,
  userGraceMs: 60_000,
  presenceTtlMs: 15_000,
  wrapupMs: 60_000,
  vetGraceMs: 60_000,
};

export function makeEngine(
  store: RoutingStore,
  opts: {
    routing?: Partial<RoutingConfig>;
    nodeId?: string;
    clock?: ManualClock;
    onNodeReaped?: () => void;
    /** Another node's ledger: nodes share one database. */
    ledger?: MemoryLedger;
    /** The ledger writer's backoff wait; default: the next turn of the event loop (no real wait). */
    ledgerWriterSleep?: Sleep;
    /** `OUTCOMES` (default: the gateway's default list). */
    outcomes?: readonly string[];
  } = {},
) {
  const clock = opts.clock ?? new ManualClock();
  const notifier = new RecordingNotifier();
  const ledger = opts.ledger ?? new MemoryLedger();
  const logger = createLogger("silent");
  let n = 0;
  const chat = new MemoryChatLog();
  const engine = new ConsultationEngine({
    store,
    ledger,
    chat,
    notifier,
    directory: fakeDirectory,
    tokens: fakeTokens,
    twilio: createOfflineProvider(logger),
    clock,
    logger,
    nodeId: opts.nodeId ?? "node-a",
    routing: { ...TEST_ROUTING, ...opts.routing },
    ...(opts.onNodeReaped ? { onNodeReaped: opts.onNodeReaped } : {}),
    ...(opts.outcomes ? { outcomes: opts.outcomes } : {}),
    ledgerWriterSleep: opts.ledgerWriterSleep ?? (() => new Promise<void>((resolve) => setImmediate(resolve))),
    newId: () => `${opts.nodeId ?? "node-a"}-c${++n}`,
  });
  return { engine, clock, notifier, ledger, chat };
}
