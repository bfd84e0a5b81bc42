/**
 * Intake: how a consultation starts. `consult:request` queues it for the routing pass;
 * REST talk-to-vet assigns an available vet at once with no offer round. Either way a user
 * has at most one open consultation, and a second ask returns it. `MAX_QUEUED_PER_APP`
 * caps queued requests only: talk-to-vet never queues, so the cap does not apply to it.
 */
import { INVALID_REGION, isIsoRegion } from "../lib/regions.js";
import { AppError, notFound } from "../lib/app-error.js";
import type { Clock } from "../lib/clock.js";
import { KeyedSerial } from "../lib/keyed-serial.js";
import type { CallSetup } from "./call-setup.js";
import type { RoutingConfig } from "./engine-config.js";
import { AppQueueFullError, NoVetAvailableError } from "./errors.js";
import { backoffMs, type LedgerWriter } from "./ledger-writer.js";
import type { Logger } from "../lib/logger.js";
import type { PayloadBuilder } from "./outgoing-payloads.js";
import { chooseVet, eligibleVets } from "./planner.js";
import { DEFAULT_LICENSE_WAIT_MS, priorityClassOf, routingRules } from "./routing-rules.js";
import type { Directory, Ledger, Notifier } from "./ports.js";
import type { QueuePositions } from "./queue-positions.js";
import type { RoutingPass } from "./routing-pass.js";
import type { RoutingStore } from "./routing-store.js";
import type { Care, ConsultationType, LiveConsultation, VetCard } from "./types.js";

/** What `request` answers. */
export interface RequestResult {
  consultation_id: string;
  status: "queued" | "offered" | "active";
  position: number;
}

/** One ask's outcome inside the user's turn; `queued`: a new request joined the queue. */
interface RecordedAsk {
  result: RequestResult;
  queued: boolean;
}

/** What talk-to-vet needs to build its REST answer. */
export interface DirectAssignment {
  consultation: LiveConsultation;
  vet: VetCard;
  identity: string;
  twilioToken: string;
}

/** What a new consultation is asked with (`consult:request`, REST talk-to-vet). */
export interface ConsultationInput {
  appId: number;
  userId: number;
  petId: number;
  type: ConsultationType;
  doctorEmail?: string | undefined;
  /** ISO 639-1 code of the language the owner prefers (PROTOCOL §4). */
  language?: string | undefined;
  /** Emergency: allowed only for subscribed `protect_users` owners (422 otherwise). */
  emergency?: boolean | undefined;
  /** Where the animal is for this request (overrides the owner's region; PROTOCOL §4). */
  region?: string | undefined;
  /** `treatment` (default) or `advice`. */
  care?: Care | undefined;
  /** A treatment request may become advice after `LICENSE_WAIT_MS` without a licensed vet. */
  adviceFallback?: boolean | undefined;
}

// What talk-to-vet tells the caller to wait before retrying when no vet is free.
const NO_VET_RETRY_AFTER_S = 30;
// Vet choices tried when other nodes keep taking the chosen vet first.
const DIRECT_ATTEMPTS = 3;
// Enqueues of a recorded request tried after the store failed (backoff up to 5 s: ~80 s).
const ENQUEUE_ATTEMPTS = 20;

export interface IntakeDeps {
  store: RoutingStore;
  /** Written directly only for a queued request, which must be in the ledger before routing sees it. */
  ledger: Ledger;
  ledgerWriter: LedgerWriter;
  directory: Directory;
  notifier: Notifier;
  positions: QueuePositions;
  routingPass: RoutingPass;
  calls: CallSetup;
  payloads: PayloadBuilder;
  clock: Clock;
  routing: RoutingConfig;
  newId: () => string;
  logger?: Logger | undefined;
  /** Waits between enqueue retries (tests inject one that needs no real time). */
  sleep?: ((ms: number) => Promise<void>) | undefined;
}

export class Intake {
  private readonly deps: IntakeDeps;
  /**
   * One ask per user at a time on this node. A second ask that arrives while the first is
   * still being recorded then finds the first's consultation (one cheap read) instead of
   * writing a request row of its own only to close it as a duplicate: a socket that fires
   * many requests at once costs one consultation, not one write each. Asks on other nodes
   * still race, and the store's enqueue settles those.
   */
  private readonly perUser = new KeyedSerial();
  /**
   * The latest ask per user still queued or running on this node. An identical ask joins it
   * and gets its answer (what it would have got anyway: the same open consultation), so a
   * burst of identical asks costs one pass through the store, not one each.
   */
  private readonly asking = new Map<string, { signature: string; result: Promise<RecordedAsk> }>();

  constructor(deps: IntakeDeps) {
    this.deps = deps;
  }

  /**
   * `consult:request`: queues a consultation, or returns the user's open one. The request
   * is written to the ledger before it becomes visible to routing on any node.
   */
  async request(input: ConsultationInput): Promise<RequestResult> {
    const { result, queued } = await this.recordAsk(input);
    // Outside the per-user turn: under load a pass keeps running while requests keep
    // arriving, and the user's next ask must not wait for (or be answered by) this one.
    if (queued) await this.deps.routingPass.run({ include: result.consultation_id });
    return result;
  }

  /** The user's turn: identical asks made at once share it, different ones wait for it. */
  private recordAsk(input: ConsultationInput): Promise<RecordedAsk> {
    const key = userKey(input);
    const signature = JSON.stringify([
      input.petId,
      input.type,
      input.doctorEmail ?? null,
      input.language ?? null,
      input.emergency === true,
      input.region ?? null,
      input.care ?? null,
      input.adviceFallback === true,
    ]);
    const pending = this.asking.get(key);
    if (pending?.signature === signature) return pending.result;
    const entry = { signature, result: this.perUser.run(key, () => this.recordAskNow(input)) };
    this.asking.set(key, entry);
    const settled = () => {
      if (this.asking.get(key) === entry) this.asking.delete(key);
    };
    void entry.result.then(settled, settled);
    return entry.result;
  }

  /** Returns the open consultation, or records and queues a new one (`queued`: routing should run). */
  private async recordAskNow(input: ConsultationInput): Promise<RecordedAsk> {
    // Independent reads, run together: the user's open consultation and the request profile.
    const [open, built] = await Promise.allSettled([
      this.deps.store.findOpenByUser(input.appId, input.userId),
      this.newConsultation(input, "queued"),
    ]);
    if (open.status === "rejected") throw open.reason;
    if (open.value) return { result: await this.requestResult(open.value), queued: false };
    if (built.status === "rejected") throw built.reason;
    const fresh = built.value;
    // Record first: the request row is durable before routing (on any node) can offer it.
    await this.deps.ledgerWriter
      .writeThrough(fresh.id, (l) => l.create(fresh, "socket"))
      .catch((err: unknown) => {
        // A create that timed out may have landed after all: closed behind (a no-op if not),
        // so no request the owner was refused stays open in the database.
        this.deps.ledgerWriter.writeBehind(fresh.id, (l) =>
          l.transition(fresh.id, "cancelled", this.deps.clock.now(), { endReason: "not_recorded" }),
        );
        throw err;
      });
    const { routing } = this.deps;
    const { created, consultation, position } = await this.deps.store
      .enqueue(fresh, routing.maxQueuedPerApp, routingRules(routing).priorityAgingMs)
      .catch((err: unknown) => {
        if (!(err instanceof AppQueueFullError)) {
          // The store is away (the caller gets 503): the recorded request must still reach the
          // live state, or be closed, never stay open in the database alone.
          void this.enqueueLater(fresh);
          throw err;
        }
        this.refused(fresh, err);
      });
    if (!created) {
      this.duplicate(fresh, consultation);
      return { result: await this.requestResult(consultation), queued: false };
    }
    this.deps.positions.joined(consultation, position);
    return { result: { consultation_id: consultation.id, status: "queued", position }, queued: true };
  }

  /** Refused by the per-app cap (`MAX_QUEUED_PER_APP`): the recorded request never queued. */
  private refused(fresh: LiveConsultation, err: AppQueueFullError): never {
    this.deps.ledgerWriter.writeBehind(fresh.id, (l) =>
      l.transition(fresh.id, "cancelled", this.deps.clock.now(), { endReason: "app_queue_full" }),
    );
    throw new AppError(429, err.message);
  }

  /** Lost a race with another request of the same user: keep that one, close this one. */
  private duplicate(fresh: LiveConsultation, kept: LiveConsultation): void {
    if (kept.id === fresh.id) return;
    this.deps.ledgerWriter.writeBehind(fresh.id, (l) =>
      l.transition(fresh.id, "cancelled", this.deps.clock.now(), { endReason: "duplicate" }),
    );
  }

  /**
   * A recorded request whose enqueue failed (the store away or timed out, maybe applied):
   * enqueued again with backoff until the store answers. The owner's own retry may come
   * first and queue another one: this one is then closed as a duplicate; found already there
   * (applied after all, or restored by a rebuild), nothing changes.
   */
  private async enqueueLater(fresh: LiveConsultation): Promise<void> {
    const { store, routing, logger } = this.deps;
    const sleep = this.deps.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms).unref()));
    for (let attempt = 1; attempt <= ENQUEUE_ATTEMPTS; attempt++) {
      await sleep(backoffMs(attempt));
      try {
        const r = await store.enqueue(fresh, routing.maxQueuedPerApp, routingRules(routing).priorityAgingMs);
        if (!r.created) this.duplicate(fresh, r.consultation);
        else {
          this.deps.positions.joined(r.consultation, r.position);
          await this.deps.routingPass.run({ include: r.consultation.id });
        }
        return;
      } catch (err) {
        if (err instanceof AppQueueFullError) {
          this.deps.ledgerWriter.writeBehind(fresh.id, (l) =>
            l.transition(fresh.id, "cancelled", this.deps.clock.now(), { endReason: "app_queue_full" }),
          );
          return;
        }
        if (attempt === ENQUEUE_ATTEMPTS)
          logger?.error({ err, consultationId: fresh.id }, "recorded request never reached the live state");
      }
    }
  }

  private async requestResult(c: LiveConsultation): Promise<RequestResult> {
    const position = c.status === "active" ? 0 : (await this.deps.positions.positionOf(c.id)).position;
    return { consultation_id: c.id, status: c.status, position };
  }

  private async newConsultation(input: ConsultationInput, status: "queued" | "active"): Promise<LiveConsultation> {
    const profile = await this.deps.directory.requestProfile(input.appId, input.userId, input.petId);
    if ("missing" in profile) throw notFound(profile.missing === "user" ? "User not found" : "Pet not found");
    // PROTOCOL §4: only a subscribed protection plan may ask for emergency handling.
    if (input.emergency && !profile.protectedOwner) throw new AppError(422, "The emergency field is not allowed.");
    // The shape is checked at the edge; whether ISO 3166 has the code is checked here, once for every transport.
    if (input.region !== undefined && !isIsoRegion(input.region)) throw new AppError(422, INVALID_REGION);
    const care: Care = input.care ?? "treatment";
    const region = input.region ?? profile.region ?? null;
    const { licensing, licenseWaitMs } = this.deps.routing;
    // PROTOCOL §4 licensing: treatment goes only where a vet is licensed, so it must say where.
    if (licensing && care === "treatment" && !region) throw new AppError(422, "The region field is required.");
    const adviceFallback = care === "treatment" && input.adviceFallback === true;
    const requestedVetId = input.doctorEmail ? await this.deps.directory.vetIdByEmail(input.doctorEmail) : null;
    const now = this.deps.clock.now();
    return {
      id: this.deps.newId(),
      appId: input.appId,
      userId: input.userId,
      petId: input.petId,
      type: input.type,
      status,
      seq: 0,
      createdAt: now,
      queueDeadline: now + this.deps.routing.queueTimeoutMs,
      requestedVetId,
      offer: null,
      excludedVetIds: [],
      vetId: null,
      acceptedAt: null,
      channelSid: null,
      roomSid: null,
      species: speciesOf(profile.pet),
      language: input.language ?? null,
      priority: priorityClassOf(input.emergency === true, profile.protectedOwner === true),
      region,
      care,
      adviceFallback,
      // The advice fallback's deadline: only where licensing can keep it waiting, and only queued.
      careDeadline:
        licensing && adviceFallback && status === "queued" ? now + (licenseWaitMs ?? DEFAULT_LICENSE_WAIT_MS) : null,
      profile,
    };
  }

  /**
   * REST talk-to-vet: assigns an available vet at once (the requested one if eligible, else
   * the longest idle) with no offer round. {@link NoVetAvailableError} when none is available.
   * With licensing, a treatment request with `advice_fallback` and no licensed vet free
   * becomes advice at once: talk-to-vet cannot wait out `LICENSE_WAIT_MS`.
   */
  talkToVet(input: ConsultationInput): Promise<DirectAssignment> {
    return this.perUser.run(userKey(input), () => this.talkToVetNow(input));
  }

  private async talkToVetNow(input: ConsultationInput): Promise<DirectAssignment> {
    let c: LiveConsultation | null = null;
    let createdNow = false;
    const existing = await this.deps.store.findOpenByUser(input.appId, input.userId);
    if (existing && existing.status !== "active") {
      throw new AppError(409, "The user already has a consultation waiting for a vet.");
    }
    if (existing) c = existing;
    // Looked up once; only the vet choice is retried when another node took the vet first.
    const fresh = c ? null : await this.newConsultation(input, "active");
    // Offline SIDs have no outside effect: made up front, so the create write carries it.
    if (fresh) fresh.channelSid = this.deps.calls.localConversationSid() ?? null;
    for (let attempt = 0; fresh && !c && attempt < DIRECT_ATTEMPTS; attempt++) {
      const vets = await this.deps.store.knownVets();
      // Talk-to-vet cannot wait: a vet who speaks the language if one is free, else any.
      const rules = { ...routingRules(this.deps.routing), languageWaitMs: 0 };
      const now = this.deps.clock.now();
      let pick = chooseVet({ ...fresh, seq: 0 }, eligibleVets(vets, rules.maxConsults), now, rules);
      // It cannot wait for a licensed vet either: with `advice_fallback` it is advice at once (PROTOCOL §4).
      if (!pick && rules.licensing && fresh.care === "treatment" && fresh.adviceFallback) {
        fresh.care = "advice";
        pick = chooseVet({ ...fresh, seq: 0 }, eligibleVets(vets, rules.maxConsults), now, rules);
      }
      if (!pick) break;
      const r = await this.deps.store.assignDirect(fresh, pick.vetId, now, rules);
      if (r.ok) {
        const created = r.consultation;
        try {
          await this.deps.ledgerWriter.writeThrough(created.id, (l) => l.create(created, "rest"));
        } catch (err) {
          // Not recorded: the vet is free again and nobody heard of it.
          await this.deps.store.finish(created.id, this.deps.clock.now(), null);
          throw err;
        }
        c = created;
        createdNow = true;
      } else if (r.reason === "user_has_open" && r.existing) {
        if (r.existing.status !== "active")
          throw new AppError(409, "The user already has a consultation waiting for a vet.");
        c = r.existing;
      }
    }
    if (!c) throw new NoVetAvailableError(NO_VET_RETRY_AFTER_S);
    // The partner may call end or feedback with this channel SID right away, on any node:
    // it is recorded before the answer. (Offline, the create write carried it already.)
    const hadSid = createdNow && c.channelSid !== null;
    c = await this.deps.calls.ensureConversation(c, false);
    const sid = c.channelSid;
    const id = c.id;
    if (sid && !hadSid) await this.deps.ledgerWriter.writeThrough(id, (l) => l.setSids(id, { channelSid: sid }));
    const { user, vet } = await this.deps.payloads.matched(c);
    this.deps.notifier.toVet(c.vetId!, "consult:assigned", vet);
    return { consultation: c, vet: user.vet, identity: user.identity, twilioToken: user.twilioToken };
  }
}

function userKey(input: ConsultationInput): string {
  return `${input.appId}:${input.userId}`;
}

/** The pet's species as routing matches it (lower case), or null when it has none. */
function speciesOf(pet: Record<string, unknown> | null): string | null {
  const s = pet?.species;
  return typeof s === "string" && s.trim() !== "" ? s.trim().toLowerCase() : null;
}
