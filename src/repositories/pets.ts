// STUB: owned by the v2 REST engineer; replaced with the real repository.
import type { Db } from "../db/database.js";

export class PetRepository {
  constructor(readonly db: Db) {}
}
