/**
 * JSON of users in the v2 reference's shapes. Key order follows the reference; timestamps
 * are UTC `YYYY-MM-DD HH:mm:ss`. Each presenter returns the type of its zod schema.
 */
import type { z } from "zod";
import { emergencyStats, userDerivedFields } from "../../repositories/emergency-stats.js";
import { formatDateTime } from "../../lib/time.js";
import { toPetJson, type PetRow } from "../../repositories/pets.js";
import type { UserRow, UserStatusRow } from "../../repositories/users.js";
import type {
  deletedUserJsonSchema,
  emergencyStatsSchema,
  petJsonSchema,
  reportRowJsonSchema,
  talkToVetUserSchema,
  userJsonSchema,
  userStatusJsonSchema,
} from "./schemas.js";

export type PetJson = z.output<typeof petJsonSchema>;
export type UserStatusJson = z.output<typeof userStatusJsonSchema>;
export type UserJson = z.output<typeof userJsonSchema>;
export type DeletedUserJson = z.output<typeof deletedUserJsonSchema>;
export type ReportRowJson = z.output<typeof reportRowJsonSchema>;
export type TalkToVetUserJson = z.output<typeof talkToVetUserSchema>;

/** The repository's pet presenter, checked against {@link petJsonSchema}. */
export const presentPet: (row: PetRow) => PetJson = toPetJson;

/** Renders a `user_status` row. */
export function toUserStatusJson(row: UserStatusRow): UserStatusJson {
  return {
    id: row.id,
    user_id: row.userId,
    app_id: row.appId,
    status: row.status,
    type: row.type,
    created_at: formatDateTime(row.createdAt),
    updated_at: formatDateTime(row.updatedAt),
    date_time: formatDateTime(row.dateTime),
  };
}

/**
 * The `user` of `register-user`: the stored fields, the derived ones (`trial_period`,
 * `can_use_emergency_funds`, `activedays`), `app: [appName]`, `pets` — as in the reference a
 * single pet object, the one registered with the user, or null — and `user_status`.
 */
export function toUserJson(
  appName: string,
  user: UserRow,
  now: Date,
  rel: { pet: PetRow | null; statuses: UserStatusRow[] },
): UserJson {
  const d = userDerivedFields(user, now);
  return {
    app_id: user.appId,
    email: user.email,
    dev_type: user.devType,
    last_name: user.lastName,
    first_name: user.firstName,
    phone_no: user.phoneNo,
    your_registration_date: formatDateTime(user.registeredAt),
    emergency_fund: user.emergencyFund,
    updated_at: formatDateTime(user.updatedAt),
    created_at: formatDateTime(user.createdAt),
    id: user.id,
    role: user.role,
    status: user.status,
    trial_period: d.trial_period,
    can_use_emergency_funds: d.can_use_emergency_funds,
    app: [appName],
    activedays: d.activedays,
    pets: rel.pet ? presentPet(rel.pet) : null,
    user_status: rel.statuses.map(toUserStatusJson),
    region: user.region,
  };
}

/** The stored columns in the order of the delete-user and talk-to-vet user objects. */
function userRecordJson(user: UserRow) {
  return {
    id: user.id,
    app_id: user.appId,
    email: user.email,
    dev_type: user.devType,
    twilio_user_sid: user.twilioUserSid,
    last_name: user.lastName,
    first_name: user.firstName,
    phone_no: user.phoneNo,
    emergency_fund: user.emergencyFund,
    your_registration_date: formatDateTime(user.registeredAt),
    created_at: formatDateTime(user.createdAt),
    updated_at: formatDateTime(user.updatedAt),
    deleted_at: formatDateTime(user.deletedAt),
    region: user.region,
  };
}

/** The `data` of `delete-user`: the user with `app`, `activedays` and `user_status_latest`. */
export function toDeletedUserJson(
  appName: string,
  user: UserRow,
  now: Date,
  latest: UserStatusRow | null,
): DeletedUserJson {
  const d = userDerivedFields(user, now);
  return {
    ...userRecordJson(user),
    next_emergency_activation_date: d.next_emergency_activation_date,
    app: [appName],
    activedays: d.activedays,
    user_status_latest: latest ? toUserStatusJson(latest) : null,
  };
}

/** One row of `report/webappuser/profile`. */
export function toReportRowJson(user: UserRow, now: Date): ReportRowJson {
  const d = userDerivedFields(user, now);
  return {
    first_name: user.firstName,
    last_name: user.lastName,
    email: user.email,
    phone_no: user.phoneNo,
    your_registration_date: formatDateTime(user.registeredAt),
    emergency_fund: user.emergencyFund,
    next_emergency_activation_date: d.next_emergency_activation_date,
    activedays: d.activedays,
    protect_type: user.role,
    package_type: user.packageType,
    subscription_status: user.status,
  };
}

/** `emergency_stats` of a user at `now`. */
export function toEmergencyStatsJson(user: UserRow, now: Date): z.output<typeof emergencyStatsSchema> {
  return emergencyStats(user, now);
}

/**
 * `user` and `emergency_stats` of talk-to-vet's `stringify_response` (to which the caller
 * adds `twilioToken`). The gateway keeps no emergency-protection records, so
 * `emergency_lastest_protect` (reference spelling) is null unless the caller supplies one.
 */
export function buildTalkToVetUserPayload(
  appName: string,
  user: UserRow,
  now: Date,
  emergencyLatestProtect: Record<string, unknown> | null = null,
): TalkToVetUserJson {
  const d = userDerivedFields(user, now);
  return {
    user: {
      ...userRecordJson(user),
      next_emergency_activation_date: d.next_emergency_activation_date,
      trial_period: d.trial_period,
      can_use_emergency_funds: d.can_use_emergency_funds,
      app: [appName],
      activedays: d.activedays,
      emergency_lastest_protect: emergencyLatestProtect,
    },
    emergency_stats: emergencyStats(user, now),
  };
}
