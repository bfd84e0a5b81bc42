import { and, asc, count, eq, isNull, sql, type SQL } from "drizzle-orm";
import type { Db } from "../db/database.js";
import { consultations, pets, users } from "../db/schema.js";
import { formatDateTime } from "../lib/time.js";

/**
 * A consultation of the pet's history (PROTOCOL §10), as a condition on the row `c`: ended,
 * with a vet (a request cancelled or expired before any vet is not a consultation).
 */
export const PAST_CONSULTATION = sql.raw("c.status = 'ended' and c.accepted_at is not null");

/** A stored pet. */
export type PetRow = typeof pets.$inferSelect;
type UserRow = typeof users.$inferSelect;

/** The writable pet fields; `undefined` leaves a field unchanged, `null` clears it. */
export interface PetFields {
  name?: string | undefined;
  species?: string | null | undefined;
  age?: string | null | undefined;
  breed?: string | null | undefined;
  color?: string | null | undefined;
  weight?: string | null | undefined;
  sex?: string | null | undefined;
  sexType?: string | null | undefined;
  profile?: string | null | undefined;
}

/** The fields `GET pet/list` may search in. */
export type PetSearchField = "name" | "species" | "breed" | "color";

export interface PetListQuery {
  searchBy?: PetSearchField;
  /** Case-insensitive substring of the `searchBy` field; empty or absent matches every pet. */
  searchValue?: string | undefined;
  /** With both set, one page (1-based) of `perPage` rows; otherwise every row. */
  page?: number | undefined;
  perPage?: number | undefined;
}

/** PostgreSQL `integer` range: ids outside it cannot exist, and querying them would be a database error. */
export function isDbId(n: number): boolean {
  return Number.isInteger(n) && n >= 1 && n <= 2_147_483_647;
}

/** A transaction handle of {@link Db}; repository helpers accept either. */
export type Tx = Parameters<Parameters<Db["transaction"]>[0]>[0];

/** The reference's pet object (pet/update, pet/list, register-user). Relations the gateway does not keep are empty. */
export interface PetJson {
  id: number;
  user_id: number;
  app_id: number;
  pet_id: number | null;
  name: string;
  species: string | null;
  age: string | null;
  breed: string | null;
  color: string | null;
  weight: string | null;
  sex: string | null;
  sex_type: string | null;
  profile: string | null;
  created_at: string | null;
  updated_at: string | null;
  deleted_at: string | null;
  veterians: null;
  medicals: null;
  insurnaces: null;
  pet_veterians: [];
  pet_medicals: [];
  pet_insurnaces: [];
}

/**
 * Renders a pet in the reference's shape, key order and spellings included
 * (`veterians`, `insurnaces`); timestamps as `YYYY-MM-DD HH:mm:ss` UTC.
 */
export function toPetJson(row: PetRow): PetJson {
  return {
    id: row.id,
    user_id: row.userId,
    app_id: row.appId,
    pet_id: row.petId,
    name: row.name,
    species: row.species,
    age: row.age,
    breed: row.breed,
    color: row.color,
    weight: row.weight,
    sex: row.sex,
    sex_type: row.sexType,
    profile: row.profile,
    created_at: formatDateTime(row.createdAt),
    updated_at: formatDateTime(row.updatedAt),
    deleted_at: formatDateTime(row.deletedAt),
    veterians: null,
    medicals: null,
    insurnaces: null,
    pet_veterians: [],
    pet_medicals: [],
    pet_insurnaces: [],
  };
}

const searchColumns = {
  name: pets.name,
  species: pets.species,
  breed: pets.breed,
  color: pets.color,
} as const;

/** Drops `undefined` entries so an update only touches the fields it was given. */
function definedFields(f: PetFields): Partial<PetRow> {
  const out: Partial<PetRow> = {};
  for (const [k, v] of Object.entries(f) as Array<[keyof PetFields, PetFields[keyof PetFields]]>) {
    if (v !== undefined) (out as Record<string, unknown>)[k] = v;
  }
  return out;
}

/** Inserts a pet with `exec` (the database or an open transaction, e.g. registration's). */
export async function insertPet(
  exec: Db | Tx,
  appId: number,
  userId: number,
  fields: PetFields & { name: string },
  now: Date,
): Promise<PetRow> {
  const rows = await exec
    .insert(pets)
    .values({ ...definedFields(fields), name: fields.name, appId, userId, createdAt: now, updatedAt: now })
    .returning();
  const row = rows[0];
  if (!row) throw new Error("insert returned no row");
  return row;
}

/** Pets of the pet owners of each app. Every query is scoped by `appId`; soft-deleted pets are invisible. */
export class PetRepository {
  /** Prepared once: `pet/list` without filters or paging, the common case. */
  private readonly allOfUser;
  /** Prepared once: the owner (by email) and all their live pets in one round trip. */
  private readonly ownerWithPets;
  /** Prepared once: an owner and one of their pets, for consultation requests. */
  private readonly ownerAndPet;

  constructor(private readonly db: Db) {
    this.allOfUser = db
      .select()
      .from(pets)
      .where(
        and(
          eq(pets.appId, sql.placeholder("appId")),
          eq(pets.userId, sql.placeholder("userId")),
          isNull(pets.deletedAt),
        ),
      )
      .orderBy(asc(pets.id))
      .prepare("pets_of_user");
    this.ownerWithPets = db
      .select({ userId: users.id, pet: pets })
      .from(users)
      .leftJoin(pets, and(eq(pets.userId, users.id), eq(pets.appId, users.appId), isNull(pets.deletedAt)))
      .where(
        and(
          eq(users.appId, sql.placeholder("appId")),
          isNull(users.deletedAt),
          eq(sql`lower(${users.email})`, sql.placeholder("email")),
        ),
      )
      .orderBy(asc(pets.id))
      .prepare("owner_with_pets");
    this.ownerAndPet = db
      .select({
        user: users,
        pet: pets,
        // Counted here, once per request, and kept with the live consultation: offers need no query (PROTOCOL §10).
        historyCount: sql<number>`(select count(*)::int from ${consultations} c
          where c.pet_id = ${pets.id} and c.app_id = ${users.appId} and ${PAST_CONSULTATION})`.mapWith(Number),
      })
      .from(users)
      .leftJoin(
        pets,
        and(
          eq(pets.id, sql.placeholder("petId")),
          eq(pets.userId, users.id),
          eq(pets.appId, users.appId),
          isNull(pets.deletedAt),
        ),
      )
      .where(
        and(
          eq(users.appId, sql.placeholder("appId")),
          eq(users.id, sql.placeholder("userId")),
          isNull(users.deletedAt),
        ),
      )
      .limit(1)
      .prepare("owner_and_pet");
  }

  /** The active owner and their live pet `petId` in one query; null when the owner is unknown. */
  async findWithOwner(
    appId: number,
    userId: number,
    petId: number,
  ): Promise<{ user: UserRow; pet: PetRow | null; historyCount: number } | null> {
    if (!isDbId(appId) || !isDbId(userId)) return null;
    const rows = await this.ownerAndPet.execute({ appId, userId, petId: isDbId(petId) ? petId : 0 });
    const row = rows[0];
    return row ? { user: row.user, pet: row.pet, historyCount: row.historyCount || 0 } : null;
  }

  /**
   * The live pets of the active owner with this email (case-insensitive), in id order, or
   * null when the app has no such owner. One query: the hot path of `pet/list`.
   */
  async listByOwnerEmail(appId: number, email: string): Promise<PetRow[] | null> {
    if (!isDbId(appId)) return null;
    const rows = await this.ownerWithPets.execute({ appId, email: email.trim().toLowerCase() });
    if (rows.length === 0) return null;
    return rows.flatMap((r) => (r.pet ? [r.pet] : []));
  }

  /** The user's pet `petId` in `appId`, unless soft-deleted. */
  async findForUser(appId: number, userId: number, petId: number): Promise<PetRow | null> {
    if (!isDbId(appId) || !isDbId(userId) || !isDbId(petId)) return null;
    const rows = await this.db
      .select()
      .from(pets)
      .where(and(eq(pets.appId, appId), eq(pets.userId, userId), eq(pets.id, petId), isNull(pets.deletedAt)))
      .limit(1);
    return rows[0] ?? null;
  }

  /** Adds a pet to the user. `fields.name` is required. */
  async create(appId: number, userId: number, fields: PetFields & { name: string }, now: Date): Promise<PetRow> {
    return insertPet(this.db, appId, userId, fields, now);
  }

  /** Changes the given fields of a live pet; null when the user has no such pet. */
  async update(appId: number, userId: number, petId: number, fields: PetFields, now: Date): Promise<PetRow | null> {
    if (!isDbId(petId)) return null;
    const rows = await this.db
      .update(pets)
      .set({ ...definedFields(fields), updatedAt: now })
      .where(and(eq(pets.appId, appId), eq(pets.userId, userId), eq(pets.id, petId), isNull(pets.deletedAt)))
      .returning();
    return rows[0] ?? null;
  }

  /**
   * Like {@link update}, and also returns the profile the pet had just before, read under a
   * row lock so two concurrent image replacements each learn the image they replaced.
   */
  async updateReturningPrevious(
    appId: number,
    userId: number,
    petId: number,
    fields: PetFields,
    now: Date,
  ): Promise<{ pet: PetRow; previousProfile: string | null } | null> {
    if (!isDbId(petId)) return null;
    return this.db.transaction(async (tx) => {
      const where = and(eq(pets.appId, appId), eq(pets.userId, userId), eq(pets.id, petId), isNull(pets.deletedAt));
      const before = await tx.select({ profile: pets.profile }).from(pets).where(where).for("update");
      if (before.length === 0) return null;
      const rows = await tx
        .update(pets)
        .set({ ...definedFields(fields), updatedAt: now })
        .where(where)
        .returning();
      const pet = rows[0];
      return pet ? { pet, previousProfile: before[0]?.profile ?? null } : null;
    });
  }

  /** Soft-deletes a live pet; false when the user has no such pet. */
  async softDelete(appId: number, userId: number, petId: number, now: Date): Promise<boolean> {
    return (await this.softDeleteReturningProfile(appId, userId, petId, now)) !== null;
  }

  /** Soft-deletes a live pet; null when the user has no such pet, else the profile it had (its image goes too). */
  async softDeleteReturningProfile(
    appId: number,
    userId: number,
    petId: number,
    now: Date,
  ): Promise<{ profile: string | null } | null> {
    if (!isDbId(petId)) return null;
    const rows = await this.db
      .update(pets)
      .set({ deletedAt: now, updatedAt: now })
      .where(and(eq(pets.appId, appId), eq(pets.userId, userId), eq(pets.id, petId), isNull(pets.deletedAt)))
      .returning({ profile: pets.profile });
    return rows[0] ?? null;
  }

  /** The user's live pets in id order, optionally filtered and paged; `total` counts every match. */
  async list(appId: number, userId: number, q: PetListQuery = {}): Promise<{ rows: PetRow[]; total: number }> {
    const conditions: SQL[] = [eq(pets.appId, appId), eq(pets.userId, userId), isNull(pets.deletedAt)];
    if (q.searchValue) {
      const col = searchColumns[q.searchBy ?? "name"];
      // strpos, not LIKE: the user's `%` and `_` stay literal characters.
      conditions.push(sql`strpos(lower(coalesce(${col}, '')), lower(${q.searchValue})) > 0`);
    }
    if (conditions.length === 3 && q.page === undefined) {
      const rows = await this.allOfUser.execute({ appId, userId });
      return { rows, total: rows.length };
    }
    const where = and(...conditions);
    const base = this.db.select().from(pets).where(where).orderBy(asc(pets.id));
    if (q.page !== undefined && q.perPage !== undefined) {
      const [rows, totals] = await Promise.all([
        base.limit(q.perPage).offset((q.page - 1) * q.perPage),
        this.db.select({ n: count() }).from(pets).where(where),
      ]);
      return { rows, total: totals[0]?.n ?? 0 };
    }
    const rows = await base;
    return { rows, total: rows.length };
  }
}
