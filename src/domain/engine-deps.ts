/** What the composition root hands the consultation engine: its ports, clock and settings. */
import type { Clock } from "../lib/clock.js";
import type { Logger } from "../lib/logger.js";
import type { EngineObserver, RoutingConfig } from "./engine-config.js";
import type { Sleep } from "./ledger-writer.js";
import type { ChatLog, Directory, Ledger, Notifier, TokenMinter, TwilioProvider } from "./ports.js";
import type { LocalConnections } from "./rebuild.js";
import type { RoutingStore } from "./routing-store.js";

export interface EngineDeps {
  store: RoutingStore;
  ledger: Ledger;
  /** The stored chat of offline mode (PROTOCOL §10). */
  chat: ChatLog;
  notifier: Notifier;
  directory: Directory;
  tokens: TokenMinter;
  twilio: TwilioProvider;
  clock: Clock;
  logger: Logger;
  nodeId: string;
  routing: RoutingConfig;
  /** `OUTCOMES`: what feedback's `outcome` may be (PROTOCOL §10). Default: `DEFAULT_OUTCOMES` (`outcomes.ts`). */
  outcomes?: readonly string[];
  observer?: EngineObserver;
  newId?: () => string;
  /**
   * Called when a heartbeat finds this node was reaped (it paused longer than
   * `PRESENCE_TTL_MS`): its connections left routing, so its sockets must reconnect.
   */
  onNodeReaped?: () => void;
  /**
   * True when a ledger error means the database is unreachable or too slow: such writes are
   * retried (written behind) or answered 503 (record first). Default: every ledger error.
   */
  isStorageUnavailable?: (err: unknown) => boolean;
  /** The ledger writer's backoff wait (tests inject one; default real timers). */
  ledgerWriterSleep?: Sleep;
  /** How long {@link ConsultationEngine.close} waits for unstored ledger writes. Default 5000 ms. */
  shutdownFlushMs?: number;
  /** The sockets this node holds, registered again after a rebuild (PROTOCOL §6). */
  localConnections?: () => LocalConnections;
}
