/** The PostgreSQL ledger (`ConsultationLedger`) against the Ledger contract, on PostgreSQL and on PGlite. */
import { openDatabase } from "../../src/db/database.js";
import { AppRepository } from "../../src/repositories/apps.js";
import { ConsultationLedger } from "../../src/repositories/ledger.js";
import { UserRepository } from "../../src/repositories/users.js";
import { VetRepository } from "../../src/repositories/vets.js";
import { createTestDatabase } from "../support/services.js";
import { ledgerContract, type LedgerFixture } from "./ledger-contract.js";

async function fixture(kind: "postgres" | "pglite"): Promise<LedgerFixture> {
  const tdb = kind === "postgres" ? await createTestDatabase("ledger") : null;
  const database = await openDatabase(tdb ? { url: tdb.url } : { pgliteDir: "memory://" });
  const apps = new AppRepository(database.db);
  const vets = new VetRepository(database.db);
  const appA = await apps.create({ name: "app-a", secret: "secret-a-0123456789" });
  const appB = await apps.create({ name: "app-b", secret: "secret-b-0123456789" });
  const vetA = await vets.create({
    email: "who@example.com",
    password: "pw-12345678",
    firstName: "Dr",
    lastName: "Who",
  });
  const vetB = await vets.create({
    email: "kim@example.com",
    password: "pw-12345678",
    firstName: "Ana",
    lastName: "Kim",
  });
  const { user, pet } = await new UserRepository(database.db).register(
    appA.id,
    { email: "o@example.com", firstName: "O", role: "users", emergencyFund: 0 },
    new Date(Date.UTC(2026, 0, 1)),
    { name: "Rex" },
  );
  return {
    ledger: new ConsultationLedger(database),
    appId: appA.id,
    otherAppId: appB.id,
    userId: user.id,
    petId: pet!.id,
    vets: [vetA, vetB],
    async cleanup() {
      await database.close();
      await tdb?.drop();
    },
  };
}

ledgerContract("PostgreSQL", () => fixture("postgres"));
ledgerContract("PGlite", () => fixture("pglite"));
