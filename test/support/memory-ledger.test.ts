/** The engine tests' in-memory ledger against the Ledger contract. */
import { ledgerContract } from "../repositories/ledger-contract.js";
import { MemoryLedger } from "./memory-ledger.js";

const vets = [
  { id: 1, firstName: "Dr", lastName: "Who" },
  { id: 2, firstName: "Ana", lastName: "Kim" },
] as const;

ledgerContract("memory", () =>
  Promise.resolve({
    ledger: new MemoryLedger((id) => vets.find((v) => v.id === id) ?? null),
    appId: 1,
    otherAppId: 2,
    userId: 1,
    petId: 1,
    vets: [vets[0], vets[1]],
    cleanup: () => Promise.resolve(),
  }),
);
