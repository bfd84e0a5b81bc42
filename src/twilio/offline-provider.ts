import { randomBytes } from "node:crypto";
import type { Logger } from "../lib/logger.js";
import type { TwilioProvider } from "../domain/ports.js";

/** A Twilio-shaped SID: two-letter prefix and 32 lowercase hex digits. */
const localSid = (prefix: "CH" | "RM") => prefix + randomBytes(16).toString("hex");

/**
 * `TWILIO_MODE=offline`: no network at all; every create returns a fresh local SID and the
 * other operations succeed. It keeps no state, so unlike live mode a repeated
 * `createConversation` with the same `uniqueName` yields a new SID.
 */
export function createOfflineProvider(logger: Logger): TwilioProvider {
  const log = logger.child({ component: "twilio", mode: "offline" });
  return {
    mode: "offline",
    localConversationSid: () => localSid("CH"),
    createConversation({ uniqueName }) {
      const sid = localSid("CH");
      log.debug({ uniqueName, sid }, "conversation created (offline)");
      return Promise.resolve({ sid });
    },
    closeConversation(sid) {
      log.debug({ sid }, "conversation closed (offline)");
      return Promise.resolve();
    },
    addParticipant(sid, identity) {
      log.debug({ sid, identity }, "participant added (offline)");
      return Promise.resolve();
    },
    removeParticipant(sid, identity) {
      log.debug({ sid, identity }, "participant removed (offline)");
      return Promise.resolve();
    },
    createRoom({ uniqueName }) {
      const sid = localSid("RM");
      log.debug({ uniqueName, sid }, "room created (offline)");
      return Promise.resolve({ sid });
    },
    completeRoom(sid) {
      log.debug({ sid }, "room completed (offline)");
      return Promise.resolve();
    },
  };
}
