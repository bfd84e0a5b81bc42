/**
 * The body of a webhook (PROTOCOL §9), built from the ledger at the event's first delivery
 * attempt and then kept, so every retry sends the same bytes. It describes the consultation
 * as the event left it: fields written after the event (a later end, a later vet) are left
 * out by time, since the event may be sent a moment after it happened.
 */
import type { Database, Statement } from "../db/database.js";
import type { WebhookBody, WebhookEventType } from "../protocol/webhooks.js";

type Status = WebhookBody["data"]["consultation"]["status"];

/** The status an event leaves the consultation in; null: the status at the time (care change, feedback). */
const STATUS_OF: Record<WebhookEventType, Status | null> = {
  "consultation.queued": "queued",
  "consultation.matched": "active",
  "consultation.transferred": "active",
  "consultation.care_changed": null,
  "consultation.ended": "ended",
  "consultation.cancelled": "cancelled",
  "consultation.expired": "expired",
  "feedback.submitted": null,
};

interface Row {
  id: string;
  status: Status;
  type: "chat" | "video";
  care: "treatment" | "advice";
  region: string | null;
  user_id: number;
  user_email: string;
  pet_id: number | null;
  channel_sid: string | null;
  room_sid: string | null;
  created_at: Date | string;
  accepted_at: Date | string | null;
  ended_at: Date | string | null;
  ended_by: "user" | "vet" | "system" | null;
  end_reason: string | null;
  vets: Array<{ vet_id: number; email: string; joined_at: string; left_at: string | null }> | string | null;
  recommendation: string | null;
  reason: string | null;
  outcome: string | null;
}

const iso = (v: Date | string | null): string | null => (v === null ? null : new Date(v).toISOString());

/** The consultations of some events, as their bodies need them: $1 their ids. */
const BODIES: Statement = {
  name: "webhooks_bodies",
  text: `select c.id, c.status, c.type, c.care, c.region,
      c.user_id, u.email as user_email, c.pet_id,
      c.channel_sid, c.room_sid, c.created_at, c.accepted_at, c.ended_at, c.ended_by, c.end_reason,
      (select coalesce(json_agg(json_build_object('vet_id', s.vet_id, 'email', sv.email, 'joined_at', s.joined_at, 'left_at', s.left_at)
                                order by s.joined_at), '[]'::json)
         from consultation_vets s join vets sv on sv.id = s.vet_id where s.consultation_id = c.id) as vets,
      f.recommendation, f.reason, f.outcome
    from consultations c
    join users u on u.app_id = c.app_id and u.id = c.user_id
    left join feedback f on f.consultation_id = c.id
    where c.id = any($1::uuid[])`,
};

/** What a body is built for. */
export interface BodyRequest {
  type: WebhookEventType;
  consultationId: string;
  occurredAt: Date;
}

/** Builds bodies from the ledger. */
export class WebhookPayloads {
  constructor(private readonly database: Pick<Database, "query">) {}

  /** The body of `type` about `consultationId` at `occurredAt`; null when the consultation is gone. */
  async build(type: WebhookEventType, consultationId: string, occurredAt: Date): Promise<WebhookBody | null> {
    return (await this.buildMany([{ type, consultationId, occurredAt }]))[0] ?? null;
  }

  /** The bodies of several events, from one read of their consultations (in the order asked; null where gone). */
  async buildMany(requests: BodyRequest[]): Promise<Array<WebhookBody | null>> {
    if (requests.length === 0) return [];
    const ids = [...new Set(requests.map((r) => r.consultationId))];
    const rows = await this.database.query<Row>(BODIES, [ids]);
    const byId = new Map(rows.map((r) => [r.id, r]));
    return requests.map((r) => {
      const row = byId.get(r.consultationId);
      return row ? bodyOf(r.type, row, r.occurredAt) : null;
    });
  }
}

/** The body of `type` about `row` as it was at `occurredAt`. */
function bodyOf(type: WebhookEventType, row: Row, occurredAt: Date): WebhookBody {
  const at = occurredAt.getTime();
  const until = (v: Date | string | null) => (v !== null && new Date(v).getTime() <= at ? iso(v) : null);
  const spells = (typeof row.vets === "string" ? (JSON.parse(row.vets) as Row["vets"]) : row.vets) ?? [];
  const held = (Array.isArray(spells) ? spells : []).filter((s) => new Date(s.joined_at).getTime() <= at);
  const vets = held.map((s) => ({ vet_id: s.vet_id, joined_at: iso(s.joined_at)!, left_at: until(s.left_at) }));
  // The vet holding it at the event: the newest spell not yet left; after an end, the last one.
  const holding = [...held].reverse().find((s) => until(s.left_at) === null) ?? held[held.length - 1];
  const terminal =
    type === "consultation.ended" ||
    type === "consultation.cancelled" ||
    type === "consultation.expired" ||
    type === "feedback.submitted";
  const body: WebhookBody = {
    type,
    timestamp: occurredAt.toISOString(),
    data: {
      consultation: {
        id: row.id,
        status: STATUS_OF[type] ?? row.status,
        type: row.type,
        care: row.care,
        region: row.region,
        user: { id: row.user_id, email: row.user_email },
        pet_id: row.pet_id,
        vet: holding ? { id: holding.vet_id, email: holding.email } : null,
        vets,
        channel_sid: row.channel_sid,
        room_sid: row.room_sid,
        created_at: iso(row.created_at)!,
        accepted_at: until(row.accepted_at),
        ended_at: terminal ? until(row.ended_at) : null,
        ended_by: terminal ? row.ended_by : null,
        end_reason: terminal ? row.end_reason : null,
      },
    },
  };
  if (type === "feedback.submitted" && row.recommendation !== null && row.reason !== null) {
    body.data.feedback = { recommendation: row.recommendation, reason: row.reason, outcome: row.outcome };
  }
  return body;
}
