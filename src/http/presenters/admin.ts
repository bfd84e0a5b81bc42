/** JSON presenters of the admin API: apps, vets, consultations and stats on the wire. */
import type { z } from "zod";
import type { StatsHistoryData } from "../../ops/stats-history.js";
import type { AppRecord } from "../../repositories/apps.js";
import type { ConsultationAudit, ConsultationDetail } from "../../repositories/consultation-reader.js";
import type { VetRecord } from "../../repositories/vets.js";
import { vetIdentity } from "../../twilio/identity.js";
import type {
  appJsonSchema,
  consultationAuditJsonSchema,
  consultationJsonSchema,
  statsHistoryJsonSchema,
  vetJsonSchema,
} from "./schemas.js";

/** The public shape of an app (never the secret or its hash). */
export const appJson = (a: AppRecord): z.output<typeof appJsonSchema> => ({
  id: a.id,
  name: a.name,
  media_url: a.mediaUrl,
});

/** The public shape of a vet (never the password hash), with its Twilio identity. */
export const vetJson = (v: VetRecord, vetAppId: number): z.output<typeof vetJsonSchema> => ({
  id: v.id,
  email: v.email,
  first_name: v.firstName,
  last_name: v.lastName,
  profile_image: v.profileImage,
  identity: vetIdentity(vetAppId, v.id),
  species: [...v.species],
  languages: [...v.languages],
  max_chats: v.maxChats,
  licenses: [...v.licenses],
});

const iso = (d: Date | null) => (d === null ? null : d.toISOString());

/** A list item of `GET /admin/v1/consultations`: every stored column of a consultation. */
export const consultationJson = (c: ConsultationDetail): z.output<typeof consultationJsonSchema> => ({
  id: c.id,
  app_id: c.appId,
  user_id: c.userId,
  pet_id: c.petId,
  type: c.type,
  source: c.source,
  status: c.status,
  requested_vet_id: c.requestedVetId,
  vet_id: c.vetId,
  channel_sid: c.channelSid,
  room_sid: c.roomSid,
  ended_by: c.endedBy,
  end_reason: c.endReason,
  language: c.language,
  emergency: c.emergency,
  species: c.species,
  priority: c.priority,
  region: c.region,
  care: c.care,
  advice_fallback: c.adviceFallback,
  created_at: iso(c.createdAt),
  accepted_at: iso(c.acceptedAt),
  ended_at: iso(c.endedAt),
  outcome: c.outcome,
});

/** `data` of `GET /admin/v1/consultations/{id}` (also the CLI's `consultation ID`). */
export const consultationAuditJson = (c: ConsultationAudit): z.output<typeof consultationAuditJsonSchema> => ({
  ...consultationJson(c),
  events: c.events.map((e) => ({ from_status: e.fromStatus, to_status: e.toStatus, at: iso(e.at), detail: e.detail })),
  offers: c.offers.map((o) => ({
    vet_id: o.vetId,
    offered_at: iso(o.offeredAt),
    expires_at: iso(o.expiresAt),
    outcome: o.outcome,
    resolved_at: iso(o.resolvedAt),
  })),
  feedback: c.feedback
    ? {
        vet_id: c.feedback.vetId,
        recommendation: c.feedback.recommendation,
        reason: c.feedback.reason,
        outcome: c.feedback.outcome,
        created_at: iso(c.feedback.createdAt),
        updated_at: iso(c.feedback.updatedAt),
      }
    : null,
  vets: c.vets.map((v) => ({ vet_id: v.vetId, joined_at: iso(v.joinedAt), left_at: iso(v.leftAt) })),
});

/** `data` of `GET /admin/v1/stats/history`: the history as the stats module keeps it (typed against its schema). */
export const statsHistoryJson = (h: StatsHistoryData): z.output<typeof statsHistoryJsonSchema> => h;
