/** Shared vocabulary of the routing engine and its store. Plain data: JSON-serialisable. */

import type { ConsultationType, EndedBy, VetCard } from "../protocol/events.js";

// Wire types come from the protocol module; re-exported for the domain's own imports.
export type { ConsultationType, EndedBy, VetCard };

/** queued → offered → active → ended, or cancelled, or expired. */
export type ConsultationStatus = "queued" | "offered" | "active" | "ended" | "cancelled" | "expired";

/** The statuses a consultation has while it lives in the routing store. */
export type OpenStatus = "queued" | "offered" | "active";

export type VetChosenStatus = "available" | "away";

/** Display data carried with a request so any node can build offers without a DB read. */
export interface RequestProfile {
  user: { id: number; first_name: string; last_name: string | null; email: string };
  pet: Record<string, unknown> | null;
  /**
   * The owner is a subscribed `protect_users` owner (PROTOCOL §4 priority; may ask for
   * `emergency`). Routing data, not shown to vets. Absent = false.
   */
  protectedOwner?: boolean;
  /** The owner's `region` (PROTOCOL §4 licensing), the default of a request's; absent = none. */
  region?: string | null;
  /**
   * The pet's earlier consultations in the app (ended, with a vet), counted once when the
   * request is recorded (PROTOCOL §10 `history_count`); absent = 0.
   */
  historyCount?: number;
}

/**
 * What a vet treats and speaks, and how many chats they hold at once (PROTOCOL §4 skills).
 * Set by operators (`POST/PATCH /admin/v1/vets`); routing reads it when the vet connects.
 */
export interface VetSkills {
  /** Lower-case species names the vet treats; empty = every species. */
  species: string[];
  /** ISO 639-1 codes the vet speaks; default `["en"]`. */
  languages: string[];
  /** Chat consultations held at once; null = `VET_MAX_CONSULTS`. */
  maxChats: number | null;
  /**
   * Where the vet may treat (PROTOCOL §4 licensing): ISO 3166-2 codes (`US-CA`) or country
   * codes (`GB`, covering every `GB-*`). Absent or empty: licensed nowhere.
   */
  licenses?: string[];
  /**
   * The record's skills version (`vets.skills_version`), bumped by every change of the
   * three above. The routing store never replaces skills with those of a lower version: a
   * read that raced an operator's change cannot undo it.
   */
  version: number;
}

/** What a consultation may give (PROTOCOL §4): diagnosis and prescription, or general advice only. */
export type Care = "treatment" | "advice";

/**
 * A request's priority class before aging (PROTOCOL §4). Transferred requests (`vet_left`)
 * rank above every class through their `transferred` flag.
 */
export type PriorityClass = "emergency" | "protected" | "normal";

/** An offer currently held by one vet for one consultation. */
export interface HeldOffer {
  vetId: number;
  offeredAt: number;
  expiresAt: number;
}

/** A consultation while it is open (queued, offered or active). Times are epoch ms. */
export interface LiveConsultation {
  id: string;
  appId: number;
  userId: number;
  petId: number | null;
  type: ConsultationType;
  status: OpenStatus;
  /** Monotonic enqueue order across all nodes: first come, first served. */
  seq: number;
  createdAt: number;
  /** Expires (no vet accepted) at this time. */
  queueDeadline: number;
  requestedVetId: number | null;
  offer: HeldOffer | null;
  /** Vets that declined or missed this request; never offered it again. */
  excludedVetIds: number[];
  /** Assigned vet once active. */
  vetId: number | null;
  acceptedAt: number | null;
  channelSid: string | null;
  roomSid: string | null;
  /**
   * Handed back to the queue because its vet did not come back within `VET_GRACE_MS` or was
   * disabled (PROTOCOL §4): waits ahead of every other request. Absent = false.
   */
  transferred?: boolean;
  /** The pet's species, lower case, or null when the pet has none (any vet may take it). */
  species?: string | null;
  /** ISO 639-1 code the owner asked for; vets who speak it are preferred for `LANGUAGE_WAIT_MS`. */
  language?: string | null;
  /** Priority class before aging; absent = `normal`. */
  priority?: PriorityClass;
  /** Where the animal is (ISO 3166-2 or country code), or null. */
  region?: string | null;
  /** Absent = `treatment`. */
  care?: Care;
  /** A treatment request that becomes advice after `LICENSE_WAIT_MS` without a licensed vet. */
  adviceFallback?: boolean;
  /**
   * When a waiting treatment request with `adviceFallback` becomes advice (a `license`
   * deadline the store keeps from the enqueue); null or absent: never.
   */
  careDeadline?: number | null;
  /**
   * A referral to another vet waiting for a taker (PROTOCOL §10): on an active consultation,
   * and on its queue entry (see {@link referralEntryId}). Absent or null: none.
   */
  referral?: Referral | null;
  /** On a referral's queue entry: the active consultation it refers. Absent on requests. */
  referralOf?: string | null;
  /** A warm referral's first vet, still holding the consultation until `consult:leave`. */
  leavingVetId?: number | null;
  profile: RequestProfile;
}

/** `warm`: both vets hold the consultation until the first leaves; `cold`: the first leaves at once. */
export type ReferralMode = "warm" | "cold";

/** A pending referral of an active consultation (PROTOCOL §10). */
export interface Referral {
  fromVetId: number;
  /** The first vet's name, shown on the offer. */
  fromVetName: string;
  note: string;
  mode: ReferralMode;
  /** The vet named by `to.vet_email`, or null for any vet with the skills asked for. */
  toVetId: number | null;
  /** The species and language `to` asked for (absent or null: none). */
  species?: string | null;
  language?: string | null;
  requestedAt: number;
  /** `TRANSFER_TIMEOUT_MS` after the request: no taker by then, it fails. */
  deadline: number;
}

/**
 * The id of an active consultation's referral entry: a queue entry in the transferred class
 * that routing offers like a request; accepting it hands the consultation over instead.
 */
export function referralEntryId(consultationId: string): string {
  return `${consultationId}~referral`;
}

/** The id is a referral entry's ({@link referralEntryId}). */
export function isReferralEntryId(id: string): boolean {
  return id.endsWith("~referral");
}

/** The consultation id clients know for a live consultation or a referral entry. */
export function publicId(c: Pick<LiveConsultation, "id" | "referralOf">): string {
  return c.referralOf ?? c.id;
}

/** A vet as routing sees it. */
export interface VetPresence {
  vetId: number;
  status: VetChosenStatus;
  /** Live socket connections across all nodes; 0 means offline. */
  connections: number;
  /** Since when the vet has been free; the longest-idle vet has the smallest value. */
  idleSince: number;
  /** The consultation whose offer this vet holds, if any. */
  offerConsultationId: string | null;
  activeConsultationIds: string[];
  /** In wrap-up after a consultation until this time (or feedback), else null. */
  wrapupUntil: number | null;
  wrapupConsultationId: string | null;
  /** Routing skills; absent = treats every species, speaks `en`, `VET_MAX_CONSULTS` chats. */
  skills?: VetSkills;
  /** Holds an active video consultation, which a vet holds alone (PROTOCOL §4). Absent = false. */
  holdsVideo?: boolean;
}

/** Kinds of deadline kept in the store; each fires exactly once across all nodes. */
export type DeadlineKind = "offer" | "queue" | "grace" | "wrapup" | "vet_grace" | "license";

/**
 * A due deadline claimed by one node. `ref` is the consultation id, or the vet id for
 * `wrapup` and `vet_grace` (a vet's last connection dropped while holding consultations).
 */
export interface Deadline {
  kind: DeadlineKind;
  ref: string;
  at: number;
}

/** Why an offer ended without acceptance. */
export type OfferOutcome =
  "accepted" | "declined" | "timeout" | "disconnected" | "away" | "cancelled" | "expired" | "node_dead";
