import { MemoryRoutingStore } from "../../../src/routing-store/memory/store.js";
import { routingStoreContract } from "../contract.js";

routingStoreContract("memory", () => Promise.resolve({ store: new MemoryRoutingStore(), cleanup: () => Promise.resolve() }));
