import type {
  NewLiveConsultation,
  NodeCleanup,
  QueueEntry,
  RoutingSnapshot,
  VetRelease,
} from "../../domain/routing-store.js";
import type { HeldOffer, LiveConsultation, Referral, RequestProfile, VetPresence } from "../../domain/types.js";

// What the Lua commands return (each file's header names its reply) and how it becomes
// domain values. cjson's quirks are undone here: an empty Lua table comes back as `{}`.

/** A consultation as stored in `c:{id}`: everything but the profile. */
export type StoredConsultation = Omit<LiveConsultation, "profile">;

/** `{d, p}` in the Lua headers: the stored consultation and its untouched profile. */
export interface WireConsultation {
  d: StoredConsultation;
  p: RequestProfile;
  /** A released offer (replies of the commands that release one). */
  o?: HeldOffer;
}

export type WireCleanup = Omit<NodeCleanup, "released"> & {
  released: Array<{ consultation: WireConsultation; vetId: number }>;
};

export interface WireRelease {
  presence: VetPresence | null;
  released: WireConsultation | null;
}

/** cjson encodes an empty Lua table as `{}`: anything not an array is an empty list. */
export function list<T>(v: unknown): T[] {
  return Array.isArray(v) ? (v as T[]) : [];
}

/** Script and GET replies are bulk strings (Buffers only under a custom type mapping). */
export function text(reply: unknown): string {
  if (typeof reply === "string") return reply;
  if (Buffer.isBuffer(reply)) return reply.toString("utf8");
  throw new TypeError(`unexpected Redis reply: ${typeof reply}`);
}

/** Parses a command's single JSON string reply. */
export function json<T>(reply: unknown): T {
  return JSON.parse(text(reply)) as T;
}

export function toConsultation(w: WireConsultation): LiveConsultation {
  return { ...toQueueEntry(w.d), profile: w.p };
}

export function toConsultationOrNull(w: WireConsultation | null): LiveConsultation | null {
  return w ? toConsultation(w) : null;
}

export function toQueueEntry(d: StoredConsultation): QueueEntry {
  return {
    id: d.id,
    appId: d.appId,
    userId: d.userId,
    petId: d.petId ?? null,
    type: d.type,
    status: d.status,
    seq: d.seq,
    createdAt: d.createdAt,
    queueDeadline: d.queueDeadline,
    requestedVetId: d.requestedVetId ?? null,
    offer: d.offer ? { vetId: d.offer.vetId, offeredAt: d.offer.offeredAt, expiresAt: d.offer.expiresAt } : null,
    excludedVetIds: list<number>(d.excludedVetIds),
    vetId: d.vetId ?? null,
    acceptedAt: d.acceptedAt ?? null,
    channelSid: d.channelSid ?? null,
    roomSid: d.roomSid ?? null,
    ...(d.transferred === true ? { transferred: true } : {}),
    // Routing attributes (PROTOCOL §4), kept as given: absent stays absent.
    ...(d.species !== undefined ? { species: d.species ?? null } : {}),
    ...(d.language !== undefined ? { language: d.language ?? null } : {}),
    ...(d.priority !== undefined ? { priority: d.priority } : {}),
    ...(d.region !== undefined ? { region: d.region ?? null } : {}),
    ...(d.care !== undefined ? { care: d.care } : {}),
    ...(d.adviceFallback !== undefined ? { adviceFallback: d.adviceFallback } : {}),
    ...(d.careDeadline !== undefined ? { careDeadline: d.careDeadline ?? null } : {}),
    // Referrals (PROTOCOL §10): only when set.
    ...(d.referral ? { referral: toReferral(d.referral) } : {}),
    ...(d.referralOf ? { referralOf: d.referralOf } : {}),
    ...(d.leavingVetId != null ? { leavingVetId: d.leavingVetId } : {}),
  };
}

/** A referral as Lua stored it (a null named vet may come back absent). */
export function toReferral(r: Referral): Referral {
  return {
    fromVetId: r.fromVetId,
    fromVetName: r.fromVetName,
    note: r.note,
    mode: r.mode,
    toVetId: r.toVetId ?? null,
    ...(r.species != null ? { species: r.species } : {}),
    ...(r.language != null ? { language: r.language } : {}),
    requestedAt: r.requestedAt,
    deadline: r.deadline,
  };
}

export function toVet(v: VetPresence): VetPresence {
  return {
    vetId: v.vetId,
    status: v.status,
    connections: v.connections,
    idleSince: v.idleSince,
    offerConsultationId: v.offerConsultationId ?? null,
    activeConsultationIds: list<string>(v.activeConsultationIds),
    wrapupUntil: v.wrapupUntil ?? null,
    wrapupConsultationId: v.wrapupConsultationId ?? null,
    ...(v.holdsVideo === true ? { holdsVideo: true } : {}),
    ...(v.skills
      ? {
          skills: {
            species: list<string>(v.skills.species),
            languages: v.skills.languages == null ? ["en"] : list<string>(v.skills.languages),
            maxChats: v.skills.maxChats ?? null,
            ...(v.skills.licenses != null ? { licenses: list<string>(v.skills.licenses) } : {}),
            version: v.skills.version ?? 0,
          },
        }
      : {}),
  };
}

export function toVetOrNull(v: VetPresence | null): VetPresence | null {
  return v ? toVet(v) : null;
}

export function toRelease(w: WireRelease): VetRelease {
  return {
    presence: toVetOrNull(w.presence),
    released: toConsultationOrNull(w.released),
    offer: w.released ? toOffer(w.released) : null,
  };
}

/** The offer a release reply carries (`o`). */
export function toOffer(w: WireConsultation): HeldOffer {
  const o = w.o!;
  return { vetId: o.vetId, offeredAt: o.offeredAt, expiresAt: o.expiresAt };
}

export function toCleanup(w: WireCleanup): NodeCleanup {
  return {
    nodeId: w.nodeId,
    offlineVetIds: list<number>(w.offlineVetIds),
    released: list<{ consultation: WireConsultation; vetId: number }>(w.released).map((r) => ({
      consultation: toConsultation(r.consultation),
      vetId: r.vetId,
      offer: toOffer(r.consultation),
    })),
    disconnectedUsers: list<{ appId: number; userId: number }>(w.disconnectedUsers),
  };
}

/**
 * The first two elements of the array replies of `snapshot` (one page) and `headSnapshot`:
 * consultation JSONs in queue order and vet JSONs (nil if gone).
 */
export function toSnapshot(reply: unknown): RoutingSnapshot {
  const [cs, vs] = list<unknown>(reply);
  const queue: QueueEntry[] = [];
  for (const c of list<unknown>(cs)) if (c != null) queue.push(toQueueEntry(json<StoredConsultation>(c)));
  const vets: VetPresence[] = [];
  for (const v of list<unknown>(vs)) if (v != null) vets.push(toVet(json<VetPresence>(v)));
  return { queue, vets };
}

/** The consultation minus what Lua must not touch (profile) or assigns itself (seq). */
export function splitNew(c: NewLiveConsultation): [core: string, profile: string] {
  const { profile, ...core } = c as NewLiveConsultation & { seq?: number };
  delete core.seq;
  return [JSON.stringify(core), JSON.stringify(profile ?? null)];
}
