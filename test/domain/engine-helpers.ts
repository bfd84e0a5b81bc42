/** Small steps shared by the engine's unit tests; `get` returns the engine under test. */
import type { makeEngine } from "../support/engine-fakes.js";

export function engineHelpers(get: () => ReturnType<typeof makeEngine>) {
  return {
    /** Connects a vet (and makes it available unless told); lower ids are idle longer. */
    online: async (vetId: number, status: "available" | "away" = "available") => {
      await get().engine.vetConnected(vetId, `v${vetId}`);
      if (status === "available") await get().engine.setVetStatus(vetId, "available");
      get().clock.advance(1000); // distinct idle times: lower id = longer idle
    },
    /** Connects an owner of app 1. */
    user: async (userId: number) => {
      await get().engine.userConnected(1, userId, `u${userId}`);
    },
    /** `consult:request` for a chat with pet 1 of app 1. */
    request: (userId: number, doctorEmail?: string) =>
      get().engine.request({ appId: 1, userId, petId: 1, type: "chat", doctorEmail }),
    /** Every `consult:offer` a vet received, oldest first. */
    offersTo: (vetId: number) => get().notifier.of(`vet:${vetId}`, "consult:offer"),
  };
}
