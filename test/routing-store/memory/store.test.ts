import { MemoryRoutingStore } from "../../../src/routing-store/memory/store.js";
import { routingStoreContract } from "../contract.js";
import { licensingContract } from "../licensing-contract.js";
import { referralContract } from "../referral-contract.js";

routingStoreContract("memory", () =>
  Promise.resolve({ store: new MemoryRoutingStore(), cleanup: () => Promise.resolve() }),
);

licensingContract("memory", () =>
  Promise.resolve({ store: new MemoryRoutingStore(), cleanup: () => Promise.resolve() }),
);

referralContract("memory", () =>
  Promise.resolve({ store: new MemoryRoutingStore(), cleanup: () => Promise.resolve() }),
);
