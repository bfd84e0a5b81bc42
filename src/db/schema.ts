/**
 * The system of record. Column names follow the v2 REST reference so rows map onto
 * responses without renaming. Soft deletes use `deleted_at`.
 */
import { sql } from "drizzle-orm";
import {
  bigint,
  boolean,
  foreignKey,
  index,
  integer,
  jsonb,
  pgTable,
  serial,
  text,
  timestamp,
  unique,
  uniqueIndex,
  uuid,
} from "drizzle-orm/pg-core";

const ts = (name: string) => timestamp(name, { withTimezone: true, mode: "date" });
const createdAt = () => ts("created_at").notNull().defaultNow();
const updatedAt = () => ts("updated_at").notNull().defaultNow();

/** Partner tenants. The secret is stored only as a scrypt hash and a keyed verifier. */
export const apps = pgTable("apps", {
  id: serial("id").primaryKey(),
  name: text("name").notNull().unique(),
  secretHash: text("secret_hash").notNull(),
  /**
   * HMAC of the secret under a key derived from `GATEWAY_SECRET` (`auth/app-secret-verifier.ts`):
   * requests are checked against it without scrypt. Null until the secret was set or verified
   * by this build; stale (another key id) after `GATEWAY_SECRET` changed.
   */
  secretVerifier: text("secret_verifier"),
  mediaUrl: text("media_url"),
  /** Seeded by demo mode: unknown to the API when demo mode is off (PROTOCOL §7). */
  demo: boolean("demo").notNull().default(false),
  /** Where the app's webhooks go (PROTOCOL §9), or null: none are written. */
  webhookUrl: text("webhook_url"),
  /** The webhook signing secret, encrypted (`webhooks/webhook-secret.ts`); never in plain text. */
  webhookSecretEnc: text("webhook_secret_enc"),
  createdAt: createdAt(),
  updatedAt: updatedAt(),
});

/** Pet owners, keyed by email within one app. */
export const users = pgTable(
  "users",
  {
    id: serial("id").primaryKey(),
    appId: integer("app_id")
      .notNull()
      .references(() => apps.id),
    email: text("email").notNull(),
    firstName: text("first_name").notNull(),
    lastName: text("last_name"),
    phoneNo: text("phone_no"),
    devType: text("dev_type"),
    role: text("role").notNull(),
    status: text("status").notNull().default("subscribed"),
    packageType: text("package_type").notNull().default("monthly"),
    emergencyFund: integer("emergency_fund").notNull().default(0),
    twilioUserSid: text("twilio_user_sid"),
    /** A seeded demo owner: refused socket tokens when demo mode is off (PROTOCOL §7). */
    demo: boolean("demo").notNull().default(false),
    /** Where the owner's animals are (PROTOCOL §4 licensing): ISO 3166-2 or country code, or null. */
    region: text("region"),
    lastEmergencyActivationDate: ts("last_emergency_activation_date"),
    registeredAt: ts("your_registration_date").notNull().defaultNow(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
    deletedAt: ts("deleted_at"),
  },
  (t) => [
    // One active account per email per app; deleted accounts may be re-registered.
    uniqueIndex("users_app_email_active")
      .on(t.appId, sql`lower(${t.email})`)
      .where(sql`${t.deletedAt} is null`),
    index("users_app_registered").on(t.appId, t.registeredAt),
    // The target of consultations' (app_id, user_id) key.
    unique("users_app_id_id").on(t.appId, t.id),
  ],
);

/** Append-only subscription history; the latest row is the user's current status. */
export const userStatus = pgTable(
  "user_status",
  {
    id: serial("id").primaryKey(),
    userId: integer("user_id")
      .notNull()
      .references(() => users.id),
    appId: integer("app_id")
      .notNull()
      .references(() => apps.id),
    status: text("status").notNull(),
    type: text("type").notNull().default("monthly"),
    dateTime: ts("date_time").notNull().defaultNow(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [index("user_status_user").on(t.userId, t.id)],
);

export const pets = pgTable(
  "pets",
  {
    id: serial("id").primaryKey(),
    userId: integer("user_id")
      .notNull()
      .references(() => users.id),
    appId: integer("app_id")
      .notNull()
      .references(() => apps.id),
    petId: integer("pet_id"),
    name: text("name").notNull(),
    species: text("species"),
    age: text("age"),
    breed: text("breed"),
    color: text("color"),
    weight: text("weight"),
    sex: text("sex"),
    sexType: text("sex_type"),
    profile: text("profile"),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
    deletedAt: ts("deleted_at"),
  },
  (t) => [index("pets_app_user").on(t.appId, t.userId)],
);

/** Platform vets; not tied to an app. The password is stored only as a scrypt hash. */
export const vets = pgTable("vets", {
  id: serial("id").primaryKey(),
  email: text("email").notNull().unique(),
  passwordHash: text("password_hash").notNull(),
  firstName: text("first_name").notNull(),
  lastName: text("last_name").notNull(),
  profileImage: text("profile_image"),
  /** False: disabled by an operator; login and socket tokens are refused. */
  active: boolean("active").notNull().default(true),
  /** Routing skills (PROTOCOL §4): lower-case species treated; empty = every species. */
  species: text("species")
    .array()
    .notNull()
    .default(sql`'{}'::text[]`),
  /** ISO 639-1 codes the vet speaks. */
  languages: text("languages")
    .array()
    .notNull()
    .default(sql`'{en}'::text[]`),
  /** Chat consultations held at once; null = `VET_MAX_CONSULTS`. */
  maxChats: integer("max_chats"),
  /** Where the vet may treat (PROTOCOL §4): ISO 3166-2 codes or country codes (a country covers its subdivisions). */
  licenses: text("licenses")
    .array()
    .notNull()
    .default(sql`'{}'::text[]`),
  /**
   * Bumped by every write of species, languages or max_chats, in the same UPDATE: routing
   * keeps the skills of the highest version it was given, so an older read never wins.
   */
  skillsVersion: integer("skills_version").notNull().default(0),
  /**
   * Bumped when the vet is disabled, enabled or given a new password (PROTOCOL §7
   * "Revocation"): socket tokens carry the version they were issued at, older ones are refused.
   */
  sessionVersion: integer("session_version").notNull().default(0),
  /** A seeded demo vet: cannot log in, connect or get offers when demo mode is off (PROTOCOL §7). */
  demo: boolean("demo").notNull().default(false),
  createdAt: createdAt(),
  updatedAt: updatedAt(),
});

/** One row per consultation request; live routing state is in the presence store. */
export const consultations = pgTable(
  "consultations",
  {
    id: uuid("id").primaryKey(),
    appId: integer("app_id").notNull(),
    userId: integer("user_id").notNull(),
    petId: integer("pet_id").references(() => pets.id),
    type: text("type").notNull(),
    source: text("source").notNull(),
    status: text("status").notNull(),
    requestedVetId: integer("requested_vet_id").references(() => vets.id),
    vetId: integer("vet_id").references(() => vets.id),
    channelSid: text("channel_sid"),
    roomSid: text("room_sid"),
    endedBy: text("ended_by"),
    endReason: text("end_reason"),
    /** ISO 639-1 code the owner asked for (PROTOCOL §4), or null. */
    language: text("language"),
    /** The owner asked for an emergency consultation. */
    emergency: boolean("emergency").notNull().default(false),
    /** The pet's species (lower case) at request time, or null. */
    species: text("species"),
    /** Priority class at request time: `emergency`, `protected` or `normal`. */
    priority: text("priority").notNull().default("normal"),
    /** Where the animal is (PROTOCOL §4): the request's region, else the owner's; or null. */
    region: text("region"),
    /** `treatment` or `advice` (general advice only, no diagnosis or prescription). */
    care: text("care").notNull().default("treatment"),
    /** A treatment request that may become advice after `LICENSE_WAIT_MS` without a licensed vet. */
    adviceFallback: boolean("advice_fallback").notNull().default(false),
    createdAt: createdAt(),
    acceptedAt: ts("accepted_at"),
    endedAt: ts("ended_at"),
    updatedAt: updatedAt(),
  },
  (t) => [
    index("consultations_app_user").on(t.appId, t.userId),
    // The owner, and through users.app_id the app: one key. A key on apps.id made every request
    // lock the app's one row (FOR KEY SHARE, shared by concurrent requests as a MultiXact).
    // With this key and the partial SID indexes the request write executes in 0.35 ms, not 0.47.
    foreignKey({
      name: "consultations_app_user_fk",
      columns: [t.appId, t.userId],
      foreignColumns: [users.appId, users.id],
    }),
    // Partial: a request has no SIDs yet, and its insert need not touch these indexes.
    uniqueIndex("consultations_channel")
      .on(t.channelSid)
      .where(sql`${t.channelSid} is not null`),
    uniqueIndex("consultations_room")
      .on(t.roomSid)
      .where(sql`${t.roomSid} is not null`),
    // The statistics read consultations by the day they were requested (ops/stats-summary.ts).
    // Nothing indexes `status`, so a transition stays a HOT update.
    index("consultations_created").on(t.createdAt),
    // A pet's history and its count at request time (PROTOCOL §10); neither column changes after the insert.
    index("consultations_pet").on(t.petId, t.createdAt),
  ],
);

/** Every state transition of a consultation, in order. */
export const consultationEvents = pgTable(
  "consultation_events",
  {
    id: bigint("id", { mode: "number" }).primaryKey().generatedAlwaysAsIdentity(),
    consultationId: uuid("consultation_id")
      .notNull()
      .references(() => consultations.id),
    fromStatus: text("from_status"),
    toStatus: text("to_status").notNull(),
    detail: jsonb("detail"),
    at: ts("at").notNull().defaultNow(),
  },
  (t) => [index("consultation_events_consultation").on(t.consultationId, t.id)],
);

/** Each offer made to a vet and how it ended (accepted, declined, timeout, revoked...). */
export const offers = pgTable(
  "offers",
  {
    id: bigint("id", { mode: "number" }).primaryKey().generatedAlwaysAsIdentity(),
    consultationId: uuid("consultation_id")
      .notNull()
      .references(() => consultations.id),
    vetId: integer("vet_id")
      .notNull()
      .references(() => vets.id),
    offeredAt: ts("offered_at").notNull(),
    expiresAt: ts("expires_at").notNull(),
    outcome: text("outcome"),
    resolvedAt: ts("resolved_at"),
  },
  (t) => [
    index("offers_consultation").on(t.consultationId),
    // One row per offer: writes of one offer from several nodes may land in either order.
    uniqueIndex("offers_consultation_vet_offered").on(t.consultationId, t.vetId, t.offeredAt),
  ],
);

/** The vet's feedback; one per consultation, a later submission replaces it. */
export const feedback = pgTable("feedback", {
  consultationId: uuid("consultation_id")
    .primaryKey()
    .references(() => consultations.id),
  vetId: integer("vet_id")
    .notNull()
    .references(() => vets.id),
  recommendation: text("recommendation").notNull(),
  reason: text("reason").notNull(),
  /** One of `OUTCOMES` (PROTOCOL §10), or null when none was given. */
  outcome: text("outcome"),
  createdAt: createdAt(),
  updatedAt: updatedAt(),
});

/**
 * Every vet who held a consultation, and when (PROTOCOL §9, §10): a row per spell, written in
 * the same statement as the transition that starts or ends it.
 */
export const consultationVets = pgTable(
  "consultation_vets",
  {
    consultationId: uuid("consultation_id")
      .notNull()
      .references(() => consultations.id),
    vetId: integer("vet_id")
      .notNull()
      .references(() => vets.id),
    joinedAt: ts("joined_at").notNull(),
    leftAt: ts("left_at"),
  },
  (t) => [
    uniqueIndex("consultation_vets_spell").on(t.consultationId, t.vetId, t.joinedAt),
    index("consultation_vets_vet").on(t.vetId),
  ],
);

/**
 * The webhook outbox (PROTOCOL §9): one row per event, written in the same statement as the
 * consultation change it reports, delivered by any node (`webhooks/dispatcher.ts`). In order
 * per consultation: a row waits while an earlier one of its consultation is pending.
 */
export const webhookOutbox = pgTable(
  "webhook_outbox",
  {
    id: bigint("id", { mode: "number" }).primaryKey().generatedAlwaysAsIdentity(),
    // No foreign key: its check would lock the app's one row for every event of every
    // consultation of the app (FOR KEY SHARE, a MultiXact shared by concurrent writers).
    appId: integer("app_id").notNull(),
    consultationId: uuid("consultation_id").notNull(),
    type: text("type").notNull(),
    occurredAt: ts("occurred_at").notNull(),
    /** `pending`, `delivered` or `failed`. */
    status: text("status").notNull().default("pending"),
    attempts: integer("attempts").notNull().default(0),
    nextAttemptAt: ts("next_attempt_at").notNull(),
    /** Retried until then, then `failed`: set at the first claim (`WEBHOOK_RETRY_WINDOW_S` after the event), and by a hand retry. */
    retryUntil: ts("retry_until"),
    /** A node is delivering it until then; past it (the node died), any node may claim it again. */
    lockedUntil: ts("locked_until"),
    /**
     * The body's JSON text, fixed at the first attempt so every retry sends the same bytes
     * (jsonb would reorder keys); dropped once delivered (a hand retry builds it again).
     */
    body: text("body"),
    lastStatus: integer("last_status"),
    lastError: text("last_error"),
    lastAttemptAt: ts("last_attempt_at"),
    deliveredAt: ts("delivered_at"),
    createdAt: createdAt(),
  },
  (t) => [
    index("webhook_outbox_due")
      .on(t.nextAttemptAt)
      .where(sql`${t.status} = 'pending'`),
    index("webhook_outbox_pending_consultation")
      .on(t.consultationId, t.id)
      .where(sql`${t.status} = 'pending'`),
    // The log and the health read an app's newest rows and its few not delivered. Pruning goes
    // by the primary key (ids grow with time): no index on created_at to keep up per event.
    index("webhook_outbox_app").on(t.appId, t.id),
    index("webhook_outbox_app_open")
      .on(t.appId, t.id)
      .where(sql`${t.status} <> 'delivered'`),
  ],
);

/**
 * Statistics of closed days (PROTOCOL §9 `stats/summary`): per day, app and vet (0: none),
 * the counts, sums and histograms of waits and handling times, and outcomes. A day is
 * computed once from `consultations` when it is over and no consultation of it is open any
 * more; today (and any day still open) is read from `consultations` directly.
 */
export const statsDaily = pgTable(
  "stats_daily",
  {
    day: text("day").notNull(),
    appId: integer("app_id").notNull(),
    vetId: integer("vet_id").notNull(),
    requests: integer("requests").notNull(),
    matched: integer("matched").notNull(),
    cancelledBeforeMatch: integer("cancelled_before_match").notNull(),
    expired: integer("expired").notNull(),
    waitCount: integer("wait_count").notNull(),
    waitSumMs: bigint("wait_sum_ms", { mode: "number" }).notNull(),
    /** Histogram of waits: bucket → count (`ops/histogram.ts`). */
    waitHist: jsonb("wait_hist").notNull(),
    handleCount: integer("handle_count").notNull(),
    handleSumMs: bigint("handle_sum_ms", { mode: "number" }).notNull(),
    handleHist: jsonb("handle_hist").notNull(),
    /** Outcome → count. */
    outcomes: jsonb("outcomes").notNull(),
  },
  (t) => [uniqueIndex("stats_daily_key").on(t.day, t.appId, t.vetId)],
);

/** Days whose `stats_daily` rows are computed. */
export const statsDaysClosed = pgTable("stats_days_closed", {
  day: text("day").primaryKey(),
  computedAt: ts("computed_at").notNull().defaultNow(),
});

/**
 * Chat messages of consultations in offline Twilio mode (PROTOCOL §10): the gateway carries
 * the chat itself. Each row is stored before anyone hears of it; `id` grows in storage order,
 * which is the conversation's order (and the paging cursor of `GET /vet/v1/consultations/{id}/messages`).
 */
export const chatMessages = pgTable(
  "chat_messages",
  {
    id: bigint("id", { mode: "number" }).primaryKey().generatedAlwaysAsIdentity(),
    consultationId: uuid("consultation_id")
      .notNull()
      .references(() => consultations.id),
    /** `vet` or `owner`. */
    author: text("author").notNull(),
    /** The vet who wrote it (author `vet`), else null. */
    vetId: integer("vet_id").references(() => vets.id),
    /** The owner who wrote it (author `owner`), else null. */
    userId: integer("user_id"),
    /** The name shown with the message, as it was when written. */
    authorName: text("author_name").notNull(),
    text: text("text").notNull(),
    createdAt: ts("created_at").notNull(),
  },
  // A consultation's messages by time: `id` grows with storage time (replay and paging read by it).
  (t) => [index("chat_messages_consultation_time").on(t.consultationId, t.id)],
);
