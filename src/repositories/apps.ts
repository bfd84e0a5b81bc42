import { and, eq } from "drizzle-orm";
import { hashSecret } from "../lib/passwords.js";
import type { Db } from "../db/database.js";
import { apps } from "../db/schema.js";
import { conflict } from "../lib/app-error.js";

/** An app (tenant) without its secret hash. */
export interface AppRecord {
  id: number;
  name: string;
  mediaUrl: string | null;
}

/** An app as operators see it (admin API, dashboard). */
export interface AppAdminRecord extends AppRecord {
  webhookUrl: string | null;
}

/** Where an app's webhooks go and the sealed secret that signs them. */
export interface WebhookTargetRecord {
  webhookUrl: string;
  webhookSecretEnc: string;
}

/** What authentication holds of every app (no scrypt hash). */
export interface AppAuthRecord extends AppRecord {
  /** See `auth/app-secret-verifier.ts`; null until set or verified by this build. */
  secretVerifier: string | null;
  /** Seeded by demo mode. */
  demo: boolean;
}

/** An app with the stored secret hash, for authentication only. */
export interface AppWithSecret extends AppRecord {
  secretHash: string;
}

/** A new secret: the plaintext is hashed here; `verifier` is its keyed verifier, when the caller can make one. */
export interface SecretInput {
  secret: string;
  verifier?: string | null;
}

const publicColumns = { id: apps.id, name: apps.name, mediaUrl: apps.mediaUrl };
const authColumns = { ...publicColumns, secretVerifier: apps.secretVerifier, demo: apps.demo };

export class AppRepository {
  constructor(private readonly db: Db) {}

  /** Creates an app; the secret is stored only as a scrypt hash (and verifier). 409 when the name is taken. */
  async create(
    input: {
      name: string;
      mediaUrl?: string | null;
      demo?: boolean;
      webhookUrl?: string | null;
      webhookSecretEnc?: string | null;
    } & SecretInput,
  ): Promise<AppRecord> {
    const secretHash = await hashSecret(input.secret);
    const rows = await this.db
      .insert(apps)
      .values({
        name: input.name,
        secretHash,
        secretVerifier: input.verifier ?? null,
        mediaUrl: input.mediaUrl ?? null,
        demo: input.demo ?? false,
        webhookUrl: input.webhookUrl ?? null,
        webhookSecretEnc: input.webhookSecretEnc ?? null,
      })
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

  /** Every app as authentication needs it (the table is small: one row per partner). */
  listForAuth(): Promise<AppAuthRecord[]> {
    return this.db.select(authColumns).from(apps);
  }

  /** One app as authentication needs it, by name; null when there is none. */
  async findForAuth(name: string): Promise<AppAuthRecord | null> {
    const rows = await this.db.select(authColumns).from(apps).where(eq(apps.name, name)).limit(1);
    return rows[0] ?? null;
  }

  /** Every app, oldest first. */
  list(): Promise<AppRecord[]> {
    return this.db.select(publicColumns).from(apps).orderBy(apps.id);
  }

  /** Every app with its webhook URL, oldest first. */
  listForAdmin(): Promise<AppAdminRecord[]> {
    return this.db
      .select({ ...publicColumns, webhookUrl: apps.webhookUrl })
      .from(apps)
      .orderBy(apps.id);
  }

  /** One app with its webhook URL, or null. */
  async findForAdmin(id: number): Promise<AppAdminRecord | null> {
    const rows = await this.db
      .select({ ...publicColumns, webhookUrl: apps.webhookUrl })
      .from(apps)
      .where(eq(apps.id, id))
      .limit(1);
    return rows[0] ?? null;
  }

  /** The app's webhook URL and sealed secret, or null when it has none. */
  async webhookTarget(id: number): Promise<WebhookTargetRecord | null> {
    const rows = await this.db
      .select({ webhookUrl: apps.webhookUrl, webhookSecretEnc: apps.webhookSecretEnc })
      .from(apps)
      .where(eq(apps.id, id))
      .limit(1);
    const r = rows[0];
    return r?.webhookUrl && r.webhookSecretEnc
      ? { webhookUrl: r.webhookUrl, webhookSecretEnc: r.webhookSecretEnc }
      : null;
  }

  /**
   * Changes an app's media URL, webhook URL and sealed webhook secret (each only when given;
   * a null URL removes it). The app, or null when there is none with this id.
   */
  async update(
    id: number,
    changes: { mediaUrl?: string | null; webhookUrl?: string | null; webhookSecretEnc?: string | null },
  ): Promise<AppAdminRecord | null> {
    const rows = await this.db
      .update(apps)
      .set({
        ...(changes.mediaUrl !== undefined ? { mediaUrl: changes.mediaUrl } : {}),
        ...(changes.webhookUrl !== undefined ? { webhookUrl: changes.webhookUrl } : {}),
        ...(changes.webhookSecretEnc !== undefined ? { webhookSecretEnc: changes.webhookSecretEnc } : {}),
        updatedAt: new Date(),
      })
      .where(eq(apps.id, id))
      .returning({ ...publicColumns, webhookUrl: apps.webhookUrl });
    return rows[0] ?? null;
  }

  /**
   * Stores the verifier of a secret that just passed scrypt against `secretHash`; a no-op
   * when the secret changed meanwhile (the verifier would be of the old one).
   */
  async storeVerifier(id: number, secretHash: string, verifier: string): Promise<void> {
    await this.db
      .update(apps)
      .set({ secretVerifier: verifier })
      .where(and(eq(apps.id, id), eq(apps.secretHash, secretHash)));
  }

  /** Replaces the app's secret (hash and verifier); the app, or null when there is none with this id. */
  async setSecret(id: number, input: SecretInput): Promise<AppRecord | null> {
    const secretHash = await hashSecret(input.secret);
    const rows = await this.db
      .update(apps)
      .set({ secretHash, secretVerifier: input.verifier ?? null, updatedAt: new Date() })
      .where(eq(apps.id, id))
      .returning(publicColumns);
    return rows[0] ?? null;
  }

  /** Counts apps that are not demo records (demo mode warns when real data shares its database). */
  async countReal(): Promise<number> {
    return await this.db.$count(apps, eq(apps.demo, false));
  }
}
