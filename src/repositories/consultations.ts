import type { Db } from "../db/database.js";

export class ConsultationRepository {
  constructor(readonly db: Db) {}
}
