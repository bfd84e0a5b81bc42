/** JSON of the webhook admin API (PROTOCOL §9): apps with their endpoint, health and delivery log. */
import { z } from "zod";
import type { AppAdminRecord } from "../../repositories/apps.js";
import type { DeliveryRow, EndpointHealth } from "../../webhooks/outbox.js";

const isoTime = z.string().meta({ description: "ISO-8601 instant", example: "2026-12-01T14:05:00.000Z" });
const iso = (d: Date | null) => (d === null ? null : d.toISOString());

export const appAdminJsonSchema = z
  .object({
    id: z.int(),
    name: z.string(),
    media_url: z.string().nullable(),
    webhook_url: z.string().nullable().meta({ description: "Where the app's webhooks go, or null." }),
  })
  .meta({ id: "AppWithWebhook" });

export const endpointHealthJsonSchema = z
  .object({
    last_success_at: isoTime.nullable(),
    failures_in_a_row: z.int().meta({ description: "Events since the last success that failed at least one attempt." }),
    oldest_pending_at: isoTime.nullable().meta({ description: "When the oldest event not yet delivered happened." }),
    pending: z.int(),
    failed: z.int().meta({ description: "Events given up after the retry window (kept until pruned)." }),
  })
  .meta({ id: "WebhookEndpointHealth" });

export const deliveryJsonSchema = z
  .object({
    id: z.int().meta({ description: "The delivery id; `webhook-id` is `msg_{id}`." }),
    consultation_id: z.string(),
    type: z.string(),
    status: z.enum(["pending", "delivered", "failed"]),
    attempts: z.int(),
    last_status: z
      .int()
      .nullable()
      .meta({ description: "The receiver's last HTTP status, or null when no answer came." }),
    last_error: z.string().nullable(),
    occurred_at: isoTime,
    last_attempt_at: isoTime.nullable(),
    next_attempt_at: isoTime.nullable().meta({ description: "When a pending event is tried next." }),
    delivered_at: isoTime.nullable(),
  })
  .meta({ id: "WebhookDelivery" });

export const webhookLogJsonSchema = z.object({
  app: appAdminJsonSchema,
  health: endpointHealthJsonSchema,
  deliveries: z.array(deliveryJsonSchema).meta({ description: "The last 100 events, newest first." }),
});

export const appWithHealthJsonSchema = appAdminJsonSchema.extend({
  webhook_health: endpointHealthJsonSchema.nullable(),
});

export const appAdminJson = (a: AppAdminRecord): z.output<typeof appAdminJsonSchema> => ({
  id: a.id,
  name: a.name,
  media_url: a.mediaUrl,
  webhook_url: a.webhookUrl,
});

export const endpointHealthJson = (h: EndpointHealth): z.output<typeof endpointHealthJsonSchema> => ({
  last_success_at: iso(h.lastSuccessAt),
  failures_in_a_row: h.failuresInARow,
  oldest_pending_at: iso(h.oldestPendingAt),
  pending: h.pending,
  failed: h.failed,
});

export const deliveryJson = (d: DeliveryRow): z.output<typeof deliveryJsonSchema> => ({
  id: d.id,
  consultation_id: d.consultationId,
  type: d.type,
  status: d.status,
  attempts: d.attempts,
  last_status: d.lastStatus,
  last_error: d.lastError,
  occurred_at: d.occurredAt.toISOString(),
  last_attempt_at: iso(d.lastAttemptAt),
  next_attempt_at: iso(d.nextAttemptAt),
  delivered_at: iso(d.deliveredAt),
});
