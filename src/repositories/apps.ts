// STUB: owned by the platform engineer; replaced with the real repository.
import type { Db } from "../db/database.js";

/** An app (tenant) without its secret hash. */
export interface AppRecord {
  id: number;
  name: string;
  mediaUrl: string | null;
}

export class AppRepository {
  constructor(readonly db: Db) {}
}
