import type { Database, Db } from "../db/database.js";
import { AppRepository } from "./apps.js";
import { ConsultationRepository } from "./consultations.js";
import { PetRepository } from "./pets.js";
import { UserRepository } from "./users.js";
import { VetRepository } from "./vets.js";

/** Every repository over one database handle. */
export interface Repositories {
  apps: AppRepository;
  vets: VetRepository;
  users: UserRepository;
  pets: PetRepository;
  consultations: ConsultationRepository;
}

/** `writers` take the consultation ledger's writes (see `Database.write` and `historyWrite`). */
export function createRepositories(db: Db, writers?: Pick<Database, "write" | "historyWrite">): Repositories {
  return {
    apps: new AppRepository(db),
    vets: new VetRepository(db),
    users: new UserRepository(db),
    pets: new PetRepository(db),
    consultations: new ConsultationRepository(db, writers),
  };
}
