/**
 * Builds the engine's parts from its ports, in dependency order: the one place that says
 * which part talks to which (the engine itself only delegates to them).
 */
import { CareFallback } from "./care-fallback.js";
import { Chat } from "./chat.js";
import { randomUUID } from "node:crypto";
import { Acceptance } from "./acceptance.js";
import { CallSetup } from "./call-setup.js";
import { Ending } from "./ending.js";
import { Feedback } from "./feedback.js";
import { DEFAULT_OUTCOMES } from "./outcomes.js";
import { LedgerWriter } from "./ledger-writer.js";
import { Intake } from "./intake.js";
import { Lifecycle } from "./lifecycle.js";
import { PayloadBuilder } from "./outgoing-payloads.js";
import { QueuePositions } from "./queue-positions.js";
import { Rebuilder } from "./rebuild.js";
import { RoutingPass } from "./routing-pass.js";
import { Timekeeper } from "./timekeeper.js";
import { routingRules } from "./routing-rules.js";
import { Referrals } from "./referrals.js";
import { VetHandover } from "./vet-handover.js";
import type { EngineDeps } from "./engine-deps.js";

/** The engine's parts, wired. */
export interface EngineParts {
  ledgerWriter: LedgerWriter;
  payloads: PayloadBuilder;
  positions: QueuePositions;
  calls: CallSetup;
  pass: RoutingPass;
  lifecycle: Lifecycle;
  timekeeper: Timekeeper;
  rebuilder: Rebuilder;
  intake: Intake;
  feedback: Feedback;
  handover: VetHandover;
  acceptance: Acceptance;
  chat: Chat;
  referrals: Referrals;
  ending: Ending;
}

export function wireEngine(deps: EngineDeps): EngineParts {
  const { store, ledger, notifier, clock, logger, routing, observer } = deps;
  const ledgerWriter = new LedgerWriter(ledger, {
    logger,
    observer: {
      retry: () => observer?.ledgerWriteRetry?.(),
      failure: (reason) => observer?.ledgerWriteFailure?.(reason),
    },
    isUnavailable: deps.isStorageUnavailable,
    sleep: deps.ledgerWriterSleep,
  });
  const chat = new Chat({
    store,
    ledger,
    chat: deps.chat,
    notifier,
    directory: deps.directory,
    twilio: deps.twilio,
    clock,
    logger,
  });
  const payloads = new PayloadBuilder(deps.directory, deps.tokens, (id) => chat.history(id));
  const positions = new QueuePositions({ store, notifier, clock: deps.clock, rules: routingRules(deps.routing) });
  const calls = new CallSetup({
    store,
    ledger,
    ledgerWriter,
    twilio: deps.twilio,
    tokens: deps.tokens,
    notifier,
    payloads: payloads,
    clock,
    logger,
  });
  const pass = new RoutingPass({ store, notifier, ledgerWriter, positions: positions, clock, routing, observer });
  const referrals = new Referrals({
    store,
    ledger,
    ledgerWriter,
    notifier,
    directory: deps.directory,
    payloads: payloads,
    calls: calls,
    twilio: deps.twilio,
    tokens: deps.tokens,
    routingPass: pass,
    clock,
    logger,
    routing,
  });
  const lifecycle = new Lifecycle({
    store,
    ledgerWriter,
    notifier,
    positions: positions,
    calls: calls,
    routingPass: pass,
    clock,
    logger,
    routing,
    observer,
    referrals: referrals,
  });
  const ending = new Ending({ store, ledger: deps.ledger, lifecycle: lifecycle });
  const rebuilder = new Rebuilder({
    store,
    ledger,
    directory: deps.directory,
    clock,
    logger,
    nodeId: deps.nodeId,
    routing,
    localConnections: deps.localConnections,
    onRebuilt: () => observer?.rebuilt?.(),
  });
  const handover = new VetHandover({
    store,
    ledgerWriter,
    notifier,
    positions: positions,
    routingPass: pass,
    lifecycle: lifecycle,
    payloads: payloads,
    twilio: deps.twilio,
    tokens: deps.tokens,
    clock,
    logger,
    routing,
    referrals: referrals,
  });
  const timekeeper = new Timekeeper({
    rebuilder: rebuilder,
    store,
    lifecycle: lifecycle,
    routingPass: pass,
    positions: positions,
    ledgerWriter,
    notifier,
    clock,
    logger,
    nodeId: deps.nodeId,
    routing,
    onNodeReaped: deps.onNodeReaped,
    vetHandover: handover,
    careFallback: new CareFallback({
      store,
      ledgerWriter,
      positions: positions,
      routingPass: pass,
      clock,
      logger,
    }),
    referrals: referrals,
  });
  const intake = new Intake({
    store,
    ledger,
    ledgerWriter,
    directory: deps.directory,
    notifier,
    positions: positions,
    routingPass: pass,
    calls: calls,
    payloads: payloads,
    clock,
    routing,
    newId: deps.newId ?? randomUUID,
    logger,
    sleep: deps.ledgerWriterSleep ? (ms) => deps.ledgerWriterSleep!(ms, new AbortController().signal) : undefined,
  });
  const feedback = new Feedback({
    store,
    ledger,
    ledgerWriter,
    directory: deps.directory,
    notifier,
    routingPass: pass,
    clock,
    outcomes: deps.outcomes ?? DEFAULT_OUTCOMES,
  });
  const acceptance = new Acceptance({
    store,
    ledgerWriter,
    calls: calls,
    payloads: payloads,
    notifier,
    routingPass: pass,
    clock,
    logger,
    observer,
    referrals: referrals,
  });
  return {
    ledgerWriter,
    payloads,
    positions,
    calls,
    pass,
    lifecycle,
    timekeeper,
    rebuilder,
    intake,
    feedback,
    handover,
    acceptance,
    chat,
    referrals,
    ending,
  };
}
