import { Router, type Request } from "express";
import { z } from "zod";
import { chatMessagePayload } from "../../domain/chat.js";
import { chatMessageSchema } from "../../protocol/payloads.js";
import type { ChatMessage } from "../../protocol/events.js";
import { validate } from "../../transport/validation.js";
import type { GatewayContext } from "../../context.js";
import { statsPayload } from "../../domain/outgoing-payloads.js";
import type { RoutingSnapshot } from "../../domain/routing-store.js";
import { AppError, notFound } from "../../lib/app-error.js";
import { ok } from "../../protocol/envelope.js";
import { vetOfRequest } from "../vet-bearer.js";
import { vetSessionValid } from "../../auth/vet-sessions.js";

/** `GET /vet/v1/config`: what the console needs to know about this gateway (nothing secret). */
export interface VetConsoleConfig {
  /** `offline`: chat and video are simulated; `live`: the console joins Twilio. */
  twilio_mode: "offline" | "live";
  /** Wrap-up length after a consultation ends. */
  wrapup_ms: number;
  /** How long an offer waits for the vet. */
  offer_timeout_ms: number;
  /** `VET_MAX_CONSULTS`: the chats a vet holds at once when their `max_chats` is null. */
  vet_max_consults: number;
  /** `LICENSING=on`: treatment reaches a vet only where licensed (PROTOCOL §4). */
  licensing: boolean;
  /** `OUTCOMES`: what feedback's `outcome` may be, in the order to list them (PROTOCOL §10). */
  outcomes: string[];
}

/** `GET /vet/v1/queue`: what a vet deciding whether to stay available wants to know. */
export interface VetQueue {
  /** Requests waiting for a vet (queued or offered). */
  queue_length: number;
  /** Vets who could take a request now (`available` in `GET /admin/v1/stats`). */
  vets_available: number;
  /** How long the longest-waiting request has waited, in whole seconds; null when none waits. */
  oldest_wait_s: number | null;
}

/** Where {@link VetQueue} comes from (the gateway shares one whole-queue read a second among its consoles). */
export interface VetQueueSource {
  vetQueue(): Promise<VetQueue>;
}

/** {@link VetQueue} of a routing snapshot at `now` (epoch ms). */
export function vetQueueOf(snapshot: RoutingSnapshot, now: number, vetMaxConsults: number): VetQueue {
  const oldest = snapshot.queue.reduce((min, c) => Math.min(min, c.createdAt), Infinity);
  return {
    queue_length: snapshot.queue.length,
    vets_available: statsPayload(snapshot, vetMaxConsults).vets.available ?? 0,
    oldest_wait_s: oldest === Infinity ? null : Math.max(0, Math.floor((now - oldest) / 1000)),
  };
}

/** The query of `GET /vet/v1/consultations/{id}/messages`. */
export const messagesQuerySchema = z.object({
  before: z
    .string()
    .regex(/^\d{1,18}$/, { error: "The :attribute must be a message id." })
    .optional()
    .meta({
      description: "A message `id`: only messages stored before it (the next older page). Absent: the newest page.",
    }),
  limit: z.coerce
    .number<number>()
    .int()
    .min(1)
    .max(100)
    .default(50)
    .meta({ description: "Messages per page, 1–100 (default 50)." }),
});

/** What `GET /vet/v1/consultations/{id}/messages` answers. */
export const messagesPageSchema = z
  .object({
    messages: z.array(chatMessageSchema).meta({ description: "This page, oldest first." }),
    next_before: z.string().nullable().meta({
      description: "Pass as `before` for the next older page; null when this page reaches the first message.",
    }),
  })
  .meta({ id: "ChatMessagePage" });

/**
 * Small endpoints of the vet console: `GET /vet/v1/config` (public); and, with
 * `Authorization: Bearer <vet socket token>`, `GET /vet/v1/queue` → {@link VetQueue} (polled: no `/vet` event carries the queue),
 * `GET /vet/v1/consultations/{id}/messages` → a page of the offline-mode chat, and `POST /vet/v1/token` →
 * a fresh `{token, expires_at}` (so a console renews its session without keeping the password).
 */
export function createVetConsoleRouter(ctx: GatewayContext, source?: VetQueueSource): Router {
  const r = Router();
  const vetOf = (req: Request) => vetOfRequest(ctx, req);
  r.get("/config", (_req, res) => {
    const data: VetConsoleConfig = {
      twilio_mode: ctx.config.twilio.mode,
      wrapup_ms: ctx.config.routing.wrapupMs,
      offer_timeout_ms: ctx.config.routing.offerTimeoutMs,
      vet_max_consults: ctx.config.routing.vetMaxConsults,
      licensing: ctx.config.routing.licensing === true,
      outcomes: [...ctx.config.outcomes],
    };
    res.json(ok(data));
  });
  r.get("/queue", async (req, res) => {
    await vetOf(req);
    const data: VetQueue = source
      ? await source.vetQueue()
      : { queue_length: 0, vets_available: 0, oldest_wait_s: null };
    res.json(ok(data));
  });
  // The stored chat (PROTOCOL §10), newest page first, each page oldest first. Only for a vet
  // who holds or held the consultation; anyone else gets 404, as if it did not exist.
  r.get("/consultations/:id/messages", async (req, res) => {
    const p = await vetOf(req);
    const vet = await ctx.repos.vets.findById(p.vetId);
    if (!vetSessionValid(vet, p, ctx.config.demo)) throw new AppError(401, "Unauthenticated.");
    const q = validate(messagesQuerySchema, req.query);
    const id = req.params.id;
    if (!(await ctx.repos.chat.heldBy(id, p.vetId))) throw notFound("Consultation not found");
    const rows = await ctx.repos.chat.page(id, q.before ?? null, q.limit + 1);
    const more = rows.length > q.limit;
    const page: ChatMessage[] = (more ? rows.slice(1) : rows).map(chatMessagePayload);
    res.json(ok({ messages: page, next_before: more ? page[0].id : null }));
  });
  r.post("/token", async (req, res) => {
    const p = await vetOf(req);
    // A vet removed, disabled or revoked since the token was issued gets no new one, and no
    // renewal outlives VET_SESSION_MAX_S from the password login (PROTOCOL §7).
    const vet = await ctx.repos.vets.findById(p.vetId);
    const renewed = vetSessionValid(vet, p, ctx.config.demo) ? await ctx.socketTokens.renewVet(p) : null;
    if (!renewed) throw new AppError(401, "Unauthenticated.");
    res.json(ok(renewed));
  });
  return r;
}
