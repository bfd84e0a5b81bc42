/**
 * In-process stand-ins for the engine's ports, for unit tests of domain logic only
 * (integration tests use the real PostgreSQL ledger and Socket.IO notifier).
 */
import { ManualClock } from "../../src/lib/clock.js";
import { createLogger } from "../../src/lib/logger.js";
import { ConsultationEngine, type RoutingConfig } from "../../src/domain/consultation-engine.js";
import type { Directory, Notifier, TokenMinter } from "../../src/domain/ports.js";
import type { RoutingStore } from "../../src/domain/routing-store.js";
import { createOfflineProvider } from "../../src/twilio/offline-provider.js";
import { MemoryLedger } from "./memory-ledger.js";

// Engine tests import the ledger from here too.
export { MemoryLedger };

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
  vetGraceMs: 60_000,
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
