/**
 * Outgoing payloads: the events and acks the engine sends (offer, matched, state, ended,
 * tokens, stats), built from live state, the {@link Directory} and fresh Twilio tokens,
 * shaped by the schemas of `protocol/payloads.ts`. No state and no side effects.
 */
import type {
  ChatMessage,
  EndedPayload,
  FeedbackPayload,
  MatchedPayload,
  OfferPayload,
  StatePayload,
  TokenPayload,
  VetConsultationPayload,
  VetStatePayload,
} from "../protocol/events.js";
import type { Directory, FeedbackRecord, TokenMinter } from "./ports.js";
import { chatCapacity } from "./routing-rules.js";
import type { RoutingSnapshot } from "./routing-store.js";
import { publicId, type EndedBy, type LiveConsultation, type VetCard, type VetPresence } from "./types.js";

/** What `GET /admin/v1/stats` answers. */
export interface EngineStats {
  queue_length: number;
  /** Of `queue_length`, the requests for advice only (PROTOCOL §4 care). */
  waiting_advice: number;
  vets: Record<string, number>;
  open_consultations: number;
}

/** The conversation so far of a consultation (offline mode), or undefined when the gateway carries no chat. */
export type ChatHistory = (consultationId: string) => Promise<ChatMessage[] | undefined>;

/** Builds the payloads that need a lookup (vet cards, the chat so far) or a token. */
export class PayloadBuilder {
  private readonly directory: Directory;
  private readonly tokens: TokenMinter;
  private readonly history: ChatHistory;

  constructor(directory: Directory, tokens: TokenMinter, history: ChatHistory = () => Promise.resolve(undefined)) {
    this.directory = directory;
    this.tokens = tokens;
    this.history = history;
  }

  /** `{messages}` when the gateway carries the chat (PROTOCOL §10), else nothing. */
  chatSoFar(consultationId: string): Promise<{ messages?: ChatMessage[] }> {
    return this.messages(consultationId);
  }

  private async messages(consultationId: string): Promise<{ messages?: ChatMessage[] }> {
    const messages = await this.history(consultationId);
    return messages ? { messages } : {};
  }

  /** The vet as owners see it; a vet missing from the directory still gets its identity. */
  async vetCard(vetId: number): Promise<VetCard> {
    const vet = await this.directory.vet(vetId);
    return vet?.card ?? { id: this.tokens.forVet(vetId).identity, username: "", profile_image: null };
  }

  /**
   * `consult:matched` for the owner and the accept/assigned payload for the vet: each with its
   * own token; the vet's carries the chat so far (a vet taking over sees the conversation).
   */
  async matched(
    c: LiveConsultation,
    forVetId: number = c.vetId!,
  ): Promise<{ user: MatchedPayload; vet: VetConsultationPayload }> {
    const vetId = c.vetId!;
    const [card, chat] = await Promise.all([this.vetCard(vetId), this.messages(c.id)]);
    const userToken = this.tokens.forUser(c.appId, c.userId);
    // The vet's own identity and token: a warm referral's first vet is not the one holding it last.
    const vetToken = this.tokens.forVet(forVetId);
    const base = { consultation_id: c.id, type: c.type, channel: c.channelSid ?? "", vet: card };
    return {
      user: { ...base, identity: userToken.identity, twilioToken: userToken.token },
      vet: {
        ...base,
        identity: vetToken.identity,
        twilioToken: vetToken.token,
        user: c.profile.user,
        pet: c.profile.pet,
        user_identity: userToken.identity,
        ...(c.leavingVetId != null && c.leavingVetId === forVetId ? { leaving: true } : {}),
        ...requestTags(c),
        ...chat,
      },
    };
  }

  /** `consult:state` of an active consultation: channel, room, vet, a fresh token and the chat so far. */
  async activeState(c: LiveConsultation): Promise<StatePayload> {
    const token = this.tokens.forUser(c.appId, c.userId, c.roomSid ?? undefined);
    const [vet, chat] = await Promise.all([this.vetCard(c.vetId!), this.messages(c.id)]);
    return {
      consultation_id: c.id,
      status: c.status,
      type: c.type,
      channel: c.channelSid,
      room_sid: c.roomSid,
      vet,
      identity: token.identity,
      twilioToken: token.token,
      care: c.care ?? "treatment",
      region: c.region ?? null,
      ...chat,
    };
  }

  /** A vet's `consult:state` of one of their active consultations (resume): accept's data, fresh token. */
  async vetState(c: LiveConsultation, forVetId: number = c.vetId!): Promise<VetStatePayload> {
    const { vet } = await this.matched(c, forVetId);
    return { ...vet, status: "active" };
  }

  /** Fresh Twilio token of an owner (`token:refresh`). */
  userToken(appId: number, userId: number): TokenPayload {
    return tokenPayload(this.tokens.forUser(appId, userId));
  }

  /** Fresh Twilio token of a vet (`token:refresh`). */
  vetToken(vetId: number): TokenPayload {
    return tokenPayload(this.tokens.forVet(vetId));
  }
}

function tokenPayload(t: { token: string; expiresAt: number }): TokenPayload {
  return { twilioToken: t.token, expires_at: new Date(t.expiresAt).toISOString() };
}

/** `consult:offer` for the vet a routing pass chose. */
export function offerPayload(c: LiveConsultation, requested: boolean, expiresAt: number): OfferPayload {
  const referral = c.referralOf && c.referral ? c.referral : null;
  return {
    consultation_id: publicId(c),
    type: c.type,
    user: c.profile.user,
    pet: c.profile.pet,
    requested,
    expires_at: new Date(expiresAt).toISOString(),
    ...(c.transferred && !referral ? { transferred: true } : {}),
    // A referral's offer (PROTOCOL §10) says who refers it and why.
    ...(referral
      ? { referral: { from_vet: { id: referral.fromVetId, name: referral.fromVetName }, note: referral.note } }
      : {}),
    ...requestTags(c),
  };
}

/**
 * What the owner asked for beyond owner and pet (PROTOCOL §4): emergency and language only
 * when set; care, region and the pet's `history_count` always (they travel with the
 * consultation). The offer, the accept, `consult:assigned` and the vet's `consult:state`
 * carry the same.
 */
function requestTags(c: LiveConsultation): {
  emergency?: true;
  language?: string;
  care: "treatment" | "advice";
  region: string | null;
  history_count: number;
} {
  return {
    ...(c.priority === "emergency" ? { emergency: true as const } : {}),
    ...(c.language ? { language: c.language } : {}),
    care: c.care ?? "treatment",
    region: c.region ?? null,
    // Counted when the request was recorded (no query per offer).
    history_count: c.profile.historyCount ?? 0,
  };
}

/** `consult:ended`; `reason` only when there is one. */
export function endedPayload(consultationId: string, endedBy: EndedBy, reason?: string): EndedPayload {
  return { consultation_id: consultationId, ended_by: endedBy, ...(reason ? { reason } : {}) };
}

/** A stored feedback as REST `feedback` answers it. */
export function storedFeedbackPayload(fb: FeedbackRecord): Omit<FeedbackPayload, "consultation_id"> {
  return {
    type: fb.type,
    vet_first_name: fb.vetFirstName,
    vet_last_name: fb.vetLastName,
    recommendation: fb.recommendation,
    reason: fb.reason,
    outcome: fb.outcome,
    feedback_date: fb.updatedAt.toISOString(),
  };
}

/** Queue length, vets by what they are doing, and open consultations, from one snapshot. */
export function statsPayload({ queue, vets }: RoutingSnapshot, vetMaxConsults: number): EngineStats {
  const full = (v: VetPresence) =>
    v.holdsVideo === true || v.activeConsultationIds.length >= chatCapacity(v, vetMaxConsults);
  const byStatus: Record<string, number> = { available: 0, offered: 0, busy: 0, wrapup: 0, away: 0, offline: 0 };
  // A warm referral's consultation is held by two vets: counted once.
  const active = new Set<string>();
  for (const v of vets) {
    for (const id of v.activeConsultationIds) active.add(id);
    const key =
      v.connections === 0
        ? "offline"
        : v.status === "away"
          ? "away"
          : v.offerConsultationId
            ? "offered"
            : v.wrapupUntil !== null
              ? "wrapup"
              : full(v)
                ? "busy"
                : "available";
    byStatus[key] = (byStatus[key] ?? 0) + 1;
  }
  const advice = queue.filter((c) => c.care === "advice").length;
  // A referral's queue entry waits for a vet, but its consultation is open already (active).
  const requests = queue.filter((c) => !c.referralOf).length;
  return {
    queue_length: queue.length,
    waiting_advice: advice,
    vets: byStatus,
    open_consultations: requests + active.size,
  };
}
