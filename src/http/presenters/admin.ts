/** JSON presenters of the admin API: what an app and a vet look like on the wire. */
import type { z } from "zod";
import type { AppRecord } from "../../repositories/apps.js";
import type { VetRecord } from "../../repositories/vets.js";
import { vetIdentity } from "../../twilio/identity.js";
import type { appJsonSchema, vetJsonSchema } from "./schemas.js";

/** The public shape of an app (never the secret or its hash). */
export const appJson = (a: AppRecord): z.output<typeof appJsonSchema> => ({ id: a.id, name: a.name, media_url: a.mediaUrl });

/** The public shape of a vet (never the password hash), with its Twilio identity. */
export const vetJson = (v: VetRecord, vetAppId: number): z.output<typeof vetJsonSchema> => ({
  id: v.id,
  email: v.email,
  first_name: v.firstName,
  last_name: v.lastName,
  profile_image: v.profileImage,
  identity: vetIdentity(vetAppId, v.id),
});
