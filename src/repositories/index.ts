import type { Database } from "../db/database.js";
import { AppRepository } from "./apps.js";
import { ChatMessages } from "./chat-messages.js";
import { ConsultationLedger } from "./ledger.js";
import { PetRepository } from "./pets.js";
import { UserRepository } from "./users.js";
import { VetRepository } from "./vets.js";

/** Every repository over one database handle. */
export interface Repositories {
  apps: AppRepository;
  vets: VetRepository;
  users: UserRepository;
  pets: PetRepository;
  /** The ledger: the durable record of every consultation (the engine's `Ledger` port). */
  ledger: ConsultationLedger;
  /** The chat of offline Twilio mode (the engine's `ChatLog` port, PROTOCOL §10). */
  chat: ChatMessages;
}

/** Every repository over one open database. */
export function createRepositories(database: Pick<Database, "db" | "write" | "writeBehind" | "query">): Repositories {
  const { db } = database;
  return {
    apps: new AppRepository(db),
    vets: new VetRepository(db),
    users: new UserRepository(db),
    pets: new PetRepository(db),
    ledger: new ConsultationLedger(database),
    chat: new ChatMessages(database),
  };
}
