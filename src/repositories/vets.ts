import { eq, inArray, sql } from "drizzle-orm";
import { hashSecret, verifySecret } from "../auth/passwords.js";
import type { Db } from "../db/database.js";
import { vets } from "../db/schema.js";
import { conflict } from "../lib/envelope.js";

/** A vet without the password hash. */
export interface VetRecord {
  id: number;
  email: string;
  firstName: string;
  lastName: string;
  profileImage: string | null;
  /** False once an operator disabled the vet: login and socket tokens are refused. */
  active: boolean;
}

const publicColumns = {
  id: vets.id,
  email: vets.email,
  firstName: vets.firstName,
  lastName: vets.lastName,
  profileImage: vets.profileImage,
  active: vets.active,
};

export class VetRepository {
  /** Verifying against a dummy hash when the email is unknown keeps login timing uniform. */
  private dummyHash: Promise<string> | undefined;

  constructor(private readonly db: Db) {}

  /** Creates a vet; the password is stored only as a scrypt hash. 409 when the email is taken. */
  async create(input: {
    email: string;
    password: string;
    firstName: string;
    lastName: string;
    profileImage?: string | null;
  }): Promise<VetRecord> {
    const passwordHash = await hashSecret(input.password);
    const rows = await this.db
      .insert(vets)
      .values({
        email: input.email.toLowerCase(),
        passwordHash,
        firstName: input.firstName,
        lastName: input.lastName,
        profileImage: input.profileImage ?? null,
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
  async setActive(id: number, active: boolean): Promise<VetRecord | null> {
    const rows = await this.db
      .update(vets)
      .set({ active, updatedAt: new Date() })
      .where(eq(vets.id, id))
      .returning(publicColumns);
    return rows[0] ?? null;
  }

  /** The vet when email and password match, else null (constant-time either way). */
  async verifyCredentials(email: string, password: string): Promise<VetRecord | null> {
    const rows = await this.db
      .select({ ...publicColumns, passwordHash: vets.passwordHash })
      .from(vets)
      .where(eq(sql`lower(${vets.email})`, email.toLowerCase()))
      .limit(1);
    const row = rows[0];
    const ok = await verifySecret(password, row?.passwordHash ?? (await (this.dummyHash ??= hashSecret("timing-equaliser"))));
    if (!row || !ok) return null;
    const { passwordHash: _omit, ...vet } = row;
    return vet;
  }
}
