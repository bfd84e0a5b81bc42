import { eq } from "drizzle-orm";
import { hashSecret } from "../auth/passwords.js";
import type { Db } from "../db/database.js";
import { apps } from "../db/schema.js";
import { conflict } from "../lib/envelope.js";

/** An app (tenant) without its secret hash. */
export interface AppRecord {
  id: number;
  name: string;
  mediaUrl: string | null;
}

/** An app with the stored secret hash, for authentication only. */
export interface AppWithSecret extends AppRecord {
  secretHash: string;
}

const publicColumns = { id: apps.id, name: apps.name, mediaUrl: apps.mediaUrl };

export class AppRepository {
  constructor(private readonly db: Db) {}

  /** Creates an app; the secret is stored only as a scrypt hash. 409 when the name is taken. */
  async create(input: { name: string; secret: string; mediaUrl?: string | null }): Promise<AppRecord> {
    const secretHash = await hashSecret(input.secret);
    const rows = await this.db
      .insert(apps)
      .values({ name: input.name, secretHash, mediaUrl: input.mediaUrl ?? null })
      .onConflictDoNothing({ target: apps.name })
      .returning(publicColumns);
    const row = rows[0];
    if (!row) throw conflict("The name has already been taken.");
    return row;
  }

  async findByName(name: string): Promise<AppRecord | null> {
    const rows = await this.db.select(publicColumns).from(apps).where(eq(apps.name, name)).limit(1);
    return rows[0] ?? null;
  }

  async findById(id: number): Promise<AppRecord | null> {
    const rows = await this.db.select(publicColumns).from(apps).where(eq(apps.id, id)).limit(1);
    return rows[0] ?? null;
  }

  async findWithSecret(id: number): Promise<AppWithSecret | null> {
    const rows = await this.db
      .select({ ...publicColumns, secretHash: apps.secretHash })
      .from(apps)
      .where(eq(apps.id, id))
      .limit(1);
    return rows[0] ?? null;
  }
}
