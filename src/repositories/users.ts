import { and, count, desc, eq, gte, isNull, lt, or, sql, type SQL } from "drizzle-orm";
import type { Db } from "../db/database.js";
import { pets, users, userStatus } from "../db/schema.js";
import { planUserAction, type SubscriptionStatus, type UserActionRequest, type UserRole } from "./emergency-stats.js";
import { conflict, unprocessable } from "../lib/app-error.js";
import { insertPet, isDbId, type PetFields, type PetRow } from "./pets.js";

/** A stored pet owner. */
export type UserRow = typeof users.$inferSelect;
/** One entry of a user's subscription history. */
export type UserStatusRow = typeof userStatus.$inferSelect;

/** What registration stores. */
export interface NewUser {
  email: string;
  firstName: string;
  lastName?: string | null | undefined;
  phoneNo?: string | null | undefined;
  devType?: string | null | undefined;
  role: UserRole;
  emergencyFund: number;
  /** ISO 3166 code where the owner's animals are (PROTOCOL §4), or null. */
  region?: string | null | undefined;
}

/** `update-user` changes; absent fields keep their value, null clears. */
export interface UserProfileChanges {
  firstName?: string | undefined;
  lastName?: string | null | undefined;
  phoneNo?: string | null | undefined;
  devType?: string | undefined;
  region?: string | null | undefined;
}

/** `POST actions` changes; absent fields keep their value. */
export interface UserActionInput extends UserActionRequest {
  firstName?: string | undefined;
  lastName?: string | null | undefined;
}

/** Filters of `POST report/webappuser/profile`. */
export interface UserReportQuery {
  /** Registered at or after this instant. */
  registeredFrom?: Date | undefined;
  /** Registered strictly before this instant. */
  registeredBefore?: Date | undefined;
  /** Case-insensitive substring of the first name, last name, full name or email. */
  search?: string | undefined;
  status?: SubscriptionStatus | undefined;
  role?: UserRole | undefined;
  /** With both set, one page (1-based) of `perPage` rows; otherwise every row. */
  page?: number | undefined;
  perPage?: number | undefined;
}

/** Postgres' unique_violation, from node-postgres or PGlite, possibly wrapped by drizzle. */
function isUniqueViolation(err: unknown): boolean {
  for (
    let e = err as { code?: unknown; cause?: unknown } | undefined, i = 0;
    e && i < 4;
    e = e.cause as typeof e, i++
  ) {
    if (e.code === "23505") return true;
  }
  return false;
}

const activeUser = (appId: number) => and(eq(users.appId, appId), isNull(users.deletedAt));

/** Pet owners of each app and their subscription history. Every query is scoped by `appId`. */
export class UserRepository {
  /** Prepared once: the lookup behind nearly every v2 request (SQL is not rebuilt per call). */
  private readonly byEmail;

  constructor(private readonly db: Db) {
    this.byEmail = db
      .select()
      .from(users)
      .where(
        and(
          eq(users.appId, sql.placeholder("appId")),
          isNull(users.deletedAt),
          eq(sql`lower(${users.email})`, sql.placeholder("email")),
        ),
      )
      .limit(1)
      .prepare("users_by_email");
  }

  /** The active (not deleted) user `userId` of `appId`. */
  async findById(appId: number, userId: number): Promise<UserRow | null> {
    if (!isDbId(appId) || !isDbId(userId)) return null;
    const rows = await this.db
      .select()
      .from(users)
      .where(and(activeUser(appId), eq(users.id, userId)))
      .limit(1);
    return rows[0] ?? null;
  }

  /** The active user of `appId` with this email, compared case-insensitively. */
  async findActiveByEmail(appId: number, email: string): Promise<UserRow | null> {
    if (!isDbId(appId)) return null;
    const rows = await this.byEmail.execute({ appId, email: email.trim().toLowerCase() });
    return rows[0] ?? null;
  }

  /**
   * Registers a user with the first `user_status` row (`subscribed`) and, optionally, a
   * first pet, in one transaction. 409 when the email belongs to an active user of the app.
   */
  async register(
    appId: number,
    input: NewUser,
    now: Date,
    pet?: (PetFields & { name: string }) | null,
  ): Promise<{ user: UserRow; statuses: UserStatusRow[]; pet: PetRow | null }> {
    try {
      return await this.db.transaction(async (tx) => {
        const inserted = await tx
          .insert(users)
          .values({
            appId,
            email: input.email.trim(),
            firstName: input.firstName,
            lastName: input.lastName ?? null,
            phoneNo: input.phoneNo ?? null,
            devType: input.devType ?? null,
            role: input.role,
            status: "subscribed",
            emergencyFund: input.emergencyFund,
            region: input.region ?? null,
            registeredAt: now,
            createdAt: now,
            updatedAt: now,
          })
          // The partial unique index (app, lower(email)) where deleted_at is null.
          .onConflictDoNothing()
          .returning();
        const user = inserted[0];
        if (!user) throw conflict("The email has already been taken.");
        const statuses = await tx
          .insert(userStatus)
          .values({
            userId: user.id,
            appId,
            status: "subscribed",
            type: user.packageType,
            dateTime: now,
            createdAt: now,
            updatedAt: now,
          })
          .returning();
        const petRow = pet ? await insertPet(tx, appId, user.id, pet, now) : null;
        return { user, statuses, pet: petRow };
      });
    } catch (err) {
      // Two registrations racing past the conflict check inside their transactions.
      if (isUniqueViolation(err)) throw conflict("The email has already been taken.");
      throw err;
    }
  }

  /** The user's subscription history, oldest first. */
  async statuses(appId: number, userId: number): Promise<UserStatusRow[]> {
    return this.db
      .select()
      .from(userStatus)
      .where(and(eq(userStatus.appId, appId), eq(userStatus.userId, userId)))
      .orderBy(userStatus.id);
  }

  /** The user's current `user_status` row (the latest), or null. */
  async latestStatus(appId: number, userId: number): Promise<UserStatusRow | null> {
    const rows = await this.db
      .select()
      .from(userStatus)
      .where(and(eq(userStatus.appId, appId), eq(userStatus.userId, userId)))
      .orderBy(desc(userStatus.id))
      .limit(1);
    return rows[0] ?? null;
  }

  /**
   * Applies `POST actions` to an active user under a row lock: names, role, status and
   * fund, appending a `user_status` row when the status changes. Throws 422 when the role
   * rules of {@link planUserAction} refuse; null when the user does not exist.
   */
  async applyAction(appId: number, userId: number, input: UserActionInput, now: Date): Promise<UserRow | null> {
    if (!isDbId(userId)) return null;
    return this.db.transaction(async (tx) => {
      const current = (
        await tx
          .select()
          .from(users)
          .where(and(activeUser(appId), eq(users.id, userId)))
          .for("update")
          .limit(1)
      )[0];
      if (!current) return null;
      const plan = planUserAction(current, input);
      if (!plan.ok) throw unprocessable(plan.messages);
      const updated = await tx
        .update(users)
        .set({
          ...(input.firstName !== undefined ? { firstName: input.firstName } : {}),
          ...(input.lastName !== undefined ? { lastName: input.lastName } : {}),
          role: plan.role,
          status: plan.status,
          emergencyFund: plan.emergencyFund,
          updatedAt: now,
        })
        .where(eq(users.id, current.id))
        .returning();
      if (plan.statusChanged) {
        await tx.insert(userStatus).values({
          userId: current.id,
          appId,
          status: plan.status,
          type: current.packageType,
          dateTime: now,
          createdAt: now,
          updatedAt: now,
        });
      }
      return updated[0] ?? null;
    });
  }

  /** Applies `update-user` to an active user; null when there is no such user. */
  async updateProfile(appId: number, userId: number, changes: UserProfileChanges, now: Date): Promise<UserRow | null> {
    if (!isDbId(userId)) return null;
    const set = Object.fromEntries(Object.entries(changes).filter(([, v]) => v !== undefined)) as Partial<
      typeof users.$inferInsert
    >;
    const updated = await this.db
      .update(users)
      .set({ ...set, updatedAt: now })
      .where(and(activeUser(appId), eq(users.id, userId)))
      .returning();
    return updated[0] ?? null;
  }

  /** Marks the user as a demo record (demo mode's seed). */
  async markDemo(appId: number, userId: number): Promise<void> {
    await this.db
      .update(users)
      .set({ demo: true })
      .where(and(eq(users.appId, appId), eq(users.id, userId)));
  }

  /** Soft-deletes an active user and, in the same transaction, their pets (PROTOCOL §7); null when there is no such user. */
  async softDelete(appId: number, userId: number, now: Date): Promise<UserRow | null> {
    return (await this.softDeleteWithPets(appId, userId, now))?.user ?? null;
  }

  /**
   * {@link softDelete}, also returning the `profile` of every pet it deleted, so the caller
   * deletes their images from storage once the rows are gone.
   */
  async softDeleteWithPets(
    appId: number,
    userId: number,
    now: Date,
  ): Promise<{ user: UserRow; petProfiles: string[] } | null> {
    if (!isDbId(userId)) return null;
    return this.db.transaction(async (tx) => {
      const rows = await tx
        .update(users)
        .set({ deletedAt: now, updatedAt: now })
        .where(and(activeUser(appId), eq(users.id, userId)))
        .returning();
      const user = rows[0];
      if (!user) return null;
      const removed = await tx
        .update(pets)
        .set({ deletedAt: now, updatedAt: now })
        .where(and(eq(pets.appId, appId), eq(pets.userId, userId), isNull(pets.deletedAt)))
        .returning({ profile: pets.profile });
      return { user, petProfiles: removed.flatMap((p) => (p.profile ? [p.profile] : [])) };
    });
  }

  /** Records an emergency activation at `at`; the next one is possible 365 days later. */
  async recordEmergencyActivation(appId: number, userId: number, at: Date): Promise<UserRow | null> {
    if (!isDbId(userId)) return null;
    const rows = await this.db
      .update(users)
      .set({ lastEmergencyActivationDate: at, updatedAt: at })
      .where(and(activeUser(appId), eq(users.id, userId)))
      .returning();
    return rows[0] ?? null;
  }

  /** Active users of the app for the web-user report, newest registration first; `total` counts every match. */
  async report(appId: number, q: UserReportQuery = {}): Promise<{ rows: UserRow[]; total: number }> {
    const conditions: (SQL | undefined)[] = [activeUser(appId)];
    if (q.registeredFrom) conditions.push(gte(users.registeredAt, q.registeredFrom));
    if (q.registeredBefore) conditions.push(lt(users.registeredAt, q.registeredBefore));
    if (q.status) conditions.push(eq(users.status, q.status));
    if (q.role) conditions.push(eq(users.role, q.role));
    if (q.search) {
      const needle = q.search.toLowerCase();
      // strpos, not LIKE: `%` and `_` in the search stay literal characters.
      conditions.push(
        or(
          sql`strpos(lower(${users.firstName} || ' ' || coalesce(${users.lastName}, '')), ${needle}) > 0`,
          sql`strpos(lower(coalesce(${users.lastName}, '')), ${needle}) > 0`,
          sql`strpos(lower(${users.email}), ${needle}) > 0`,
        ),
      );
    }
    const where = and(...conditions);
    const base = this.db.select().from(users).where(where).orderBy(desc(users.registeredAt), desc(users.id));
    if (q.page !== undefined && q.perPage !== undefined) {
      const [rows, totals] = await Promise.all([
        base.limit(q.perPage).offset((q.page - 1) * q.perPage),
        this.db.select({ n: count() }).from(users).where(where),
      ]);
      return { rows, total: totals[0]?.n ?? 0 };
    }
    const rows = await base;
    return { rows, total: rows.length };
  }
}

/** The short user card carried in socket payloads (`RequestProfile.user`). */
export function toUserSummary(user: UserRow): {
  id: number;
  first_name: string;
  last_name: string | null;
  email: string;
} {
  return { id: user.id, first_name: user.firstName, last_name: user.lastName, email: user.email };
}
