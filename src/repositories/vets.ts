import { eq, inArray, sql } from "drizzle-orm";
import { hashSecret } from "../lib/passwords.js";
import type { Db } from "../db/database.js";
import type { VetSkills } from "../domain/types.js";
import { vets } from "../db/schema.js";
import { conflict } from "../lib/app-error.js";

/** A vet without the password hash. */
export interface VetRecord {
  id: number;
  email: string;
  firstName: string;
  lastName: string;
  profileImage: string | null;
  /** False once an operator disabled the vet: login and socket tokens are refused. */
  active: boolean;
  /** Lower-case species the vet treats; empty = every species (PROTOCOL §4 skills). */
  species: string[];
  /** ISO 639-1 codes the vet speaks. */
  languages: string[];
  /** Chat consultations held at once; null = `VET_MAX_CONSULTS`. */
  maxChats: number | null;
  /** ISO 3166 codes where the vet may treat (PROTOCOL §4 licensing); a country covers its subdivisions. */
  licenses: string[];
  /** Bumped by every write of the skills above (see {@link VetSkills.version}). */
  skillsVersion: number;
  /** Bumped by disabling, enabling and a new password: older socket tokens are refused (PROTOCOL §7). */
  sessionVersion: number;
  /** Seeded by demo mode: refused everywhere while demo mode is off. */
  demo: boolean;
}

/** The routing attributes an operator sets on a vet; an absent field is left as it is. */
export interface VetAttributes {
  species?: string[];
  languages?: string[];
  maxChats?: number | null;
  licenses?: string[];
}

/** What `PATCH /admin/v1/vets/{id}` may change at once. */
export interface VetChanges extends VetAttributes {
  active?: boolean;
  /** A new password (hashed here). */
  password?: string;
}

/** The routing skills of a vet record (the domain's {@link VetSkills}). */
export function vetSkillsOf(v: VetRecord): VetSkills {
  return {
    species: [...v.species],
    languages: [...v.languages],
    maxChats: v.maxChats,
    licenses: [...v.licenses],
    version: v.skillsVersion,
  };
}

const publicColumns = {
  id: vets.id,
  email: vets.email,
  firstName: vets.firstName,
  lastName: vets.lastName,
  profileImage: vets.profileImage,
  active: vets.active,
  species: vets.species,
  languages: vets.languages,
  maxChats: vets.maxChats,
  licenses: vets.licenses,
  skillsVersion: vets.skillsVersion,
  sessionVersion: vets.sessionVersion,
  demo: vets.demo,
};

const touchesSkills = (a: VetAttributes) =>
  a.species !== undefined || a.languages !== undefined || a.maxChats !== undefined || a.licenses !== undefined;

// Only the attributes given; the column defaults (every species, `en`, null) apply otherwise.
function attributeColumns(
  a: VetAttributes,
): Partial<Pick<typeof vets.$inferInsert, "species" | "languages" | "maxChats" | "licenses">> {
  return {
    ...(a.species !== undefined ? { species: a.species } : {}),
    ...(a.languages !== undefined ? { languages: a.languages } : {}),
    ...(a.maxChats !== undefined ? { maxChats: a.maxChats } : {}),
    ...(a.licenses !== undefined ? { licenses: a.licenses } : {}),
  };
}

export class VetRepository {
  constructor(private readonly db: Db) {}

  /** Creates a vet; the password is stored only as a scrypt hash. 409 when the email is taken. */
  async create(
    input: {
      email: string;
      password: string;
      firstName: string;
      lastName: string;
      profileImage?: string | null;
      demo?: boolean;
    } & VetAttributes,
  ): Promise<VetRecord> {
    const passwordHash = await hashSecret(input.password);
    const rows = await this.db
      .insert(vets)
      .values({
        email: input.email.toLowerCase(),
        passwordHash,
        firstName: input.firstName,
        lastName: input.lastName,
        profileImage: input.profileImage ?? null,
        demo: input.demo ?? false,
        ...attributeColumns(input),
      })
      .onConflictDoNothing({ target: vets.email })
      .returning(publicColumns);
    const row = rows[0];
    if (!row) throw conflict("The email has already been taken.");
    return row;
  }

  async findById(id: number): Promise<VetRecord | null> {
    const rows = await this.db.select(publicColumns).from(vets).where(eq(vets.id, id)).limit(1);
    return rows[0] ?? null;
  }

  async findByIds(ids: number[]): Promise<VetRecord[]> {
    if (ids.length === 0) return [];
    return this.db.select(publicColumns).from(vets).where(inArray(vets.id, ids));
  }

  async findByEmail(email: string): Promise<VetRecord | null> {
    const rows = await this.db
      .select(publicColumns)
      .from(vets)
      .where(eq(sql`lower(${vets.email})`, email.toLowerCase()))
      .limit(1);
    return rows[0] ?? null;
  }

  /** Enables or disables a vet; the updated vet, or null when there is none with this id. */
  setActive(id: number, active: boolean): Promise<VetRecord | null> {
    return this.update(id, { active });
  }

  /**
   * Changes the given fields in one write; the updated vet, or null when there is none with
   * this id. A change of skills bumps `skillsVersion` in the same UPDATE, so the row lock
   * orders concurrent writers and each gets the version of exactly what it wrote. A change of
   * `active` (either way) or a password bumps `sessionVersion`: every token issued before is
   * refused from then on (PROTOCOL §7 "Revocation"). `active` set to what it already is
   * revokes nothing (an operator re-saving an enabled vet must not sign them out).
   */
  async update(id: number, changes: VetChanges): Promise<VetRecord | null> {
    const passwordHash = changes.password !== undefined ? await hashSecret(changes.password) : undefined;
    const revokes =
      passwordHash !== undefined
        ? sql`${vets.sessionVersion} + 1`
        : changes.active !== undefined
          ? sql`${vets.sessionVersion} + case when ${vets.active} is distinct from ${changes.active} then 1 else 0 end`
          : undefined;
    const rows = await this.db
      .update(vets)
      .set({
        ...(changes.active !== undefined ? { active: changes.active } : {}),
        ...(passwordHash !== undefined ? { passwordHash } : {}),
        ...attributeColumns(changes),
        ...(touchesSkills(changes) ? { skillsVersion: sql`${vets.skillsVersion} + 1` } : {}),
        ...(revokes ? { sessionVersion: revokes } : {}),
        updatedAt: new Date(),
      })
      .where(eq(vets.id, id))
      .returning(publicColumns);
    return rows[0] ?? null;
  }

  /** The vet with this email (any case) and its password hash, for login; null when unknown. */
  async findCredentials(email: string): Promise<{ vet: VetRecord; passwordHash: string } | null> {
    const rows = await this.db
      .select({ ...publicColumns, passwordHash: vets.passwordHash })
      .from(vets)
      .where(eq(sql`lower(${vets.email})`, email.toLowerCase()))
      .limit(1);
    const row = rows[0];
    if (!row) return null;
    const { passwordHash, ...vet } = row;
    return { vet, passwordHash };
  }

  /** Marks the vet as a demo record (demo mode's seed). */
  async markDemo(id: number): Promise<void> {
    await this.db.update(vets).set({ demo: true }).where(eq(vets.id, id));
  }

  /** Counts vets that are not demo records. */
  countReal(): Promise<number> {
    return this.db.$count(vets, eq(vets.demo, false));
  }
}
