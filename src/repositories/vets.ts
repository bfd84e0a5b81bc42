// STUB: owned by the platform engineer; replaced with the real repository.
import type { Db } from "../db/database.js";

/** A vet without the password hash. */
export interface VetRecord {
  id: number;
  email: string;
  firstName: string;
  lastName: string;
  profileImage: string | null;
}

export class VetRepository {
  constructor(readonly db: Db) {}
  findById(_id: number): Promise<VetRecord | null> {
    return Promise.resolve(null);
  }
  findByEmail(_email: string): Promise<VetRecord | null> {
    return Promise.resolve(null);
  }
}
