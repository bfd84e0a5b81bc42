/**
 * The REST fallbacks of the consultation flows (PROTOCOL §2): talk-to-vet, end, feedback
 * and video-call-action, through the same engine as the sockets.
 */
import { Router } from "express";
import { z } from "zod";
import type { GatewayContext } from "../../../context.js";
import type { ConsultationEngine } from "../../../domain/consultation-engine.js";
import { ok } from "../../../protocol/envelope.js";
import { buildTalkToVetUserPayload } from "../../presenters/users.js";
import { validate } from "../../../transport/validation.js";
import { bodyOf, currentApp, now, requireUser } from "./common.js";
import { flag, optionalCare, optionalLanguage, optionalRegion } from "./schemas.js";

const sid = z.string().trim().min(1).max(64);

export const talkToVetSchema = z.object({
  email: z.email().max(254),
  conversation_request: z.enum(["chat", "video"]),
  pet_id: z.coerce.number().int().positive().max(2_147_483_647),
  doctor_email: z.email().max(254).optional(),
  /** Vets who speak it are preferred for a while (PROTOCOL §4). */
  language: optionalLanguage,
  /** Subscribed `protect_users` owners only; the engine answers 422 to others. */
  emergency: flag,
  /** Where the animal is for this request (overrides the owner's `region`; PROTOCOL §4). */
  region: optionalRegion,
  care: optionalCare,
  /** With no licensed vet free, the treatment request is advice at once (talk-to-vet cannot wait). */
  advice_fallback: flag,
});
export const endSchema = z.object({ channel_sid: sid });
export const feedbackSchema = z.discriminatedUnion("type", [
  z.object({ type: z.literal("chat"), channel_sid: sid }),
  z.object({ type: z.literal("video"), room_sid: sid }),
]);
export const callActionSchema = z.object({
  status: z.enum(["notanswered", "declined", "accepted"]),
  room_sid: sid,
});

export function createConsultationRouter(ctx: GatewayContext, engine: ConsultationEngine): Router {
  const r = Router();

  r.post("/talk-to-vet", async (req, res) => {
    const app = currentApp(res);
    const input = validate(talkToVetSchema, bodyOf(req));
    const user = await requireUser(ctx, app.id, input.email);
    const a = await engine.talkToVet({
      appId: app.id,
      userId: user.id,
      petId: input.pet_id,
      type: input.conversation_request,
      doctorEmail: input.doctor_email,
      language: input.language,
      emergency: input.emergency,
      region: input.region,
      care: input.care,
      adviceFallback: input.advice_fallback,
    });
    const { user: userJson, emergency_stats } = buildTalkToVetUserPayload(app.name, user, now(ctx));
    res.json(
      ok(
        {
          consultation_id: a.consultation.id,
          channel: a.consultation.channelSid,
          vet: a.vet,
          identity: a.identity,
          stringify_response: JSON.stringify({ twilioToken: a.twilioToken, user: userJson, emergency_stats }),
        },
        "User Found Successfully",
      ),
    );
  });

  r.post("/end", async (req, res) => {
    const input = validate(endSchema, bodyOf(req));
    await engine.endByChannel(currentApp(res).id, input.channel_sid);
    res.json(ok(true, "End chat successful"));
  });

  r.post("/feedback", async (req, res) => {
    const input = validate(feedbackSchema, bodyOf(req));
    const by = input.type === "chat" ? { channelSid: input.channel_sid } : { roomSid: input.room_sid };
    res.json(ok(await engine.feedbackFor(currentApp(res).id, by), "Vet Feedback"));
  });

  r.post("/video-call-action", async (req, res) => {
    const input = validate(callActionSchema, bodyOf(req));
    await engine.relayCallStatus(currentApp(res).id, null, input.room_sid, input.status);
    res.json(ok(true, "Call status updated"));
  });

  return r;
}
