/** What the console's parts share: the gateway's settings, the SDK client of this session, alerts and notices. */
import type { VetClient } from "../../src/client/index.js";
import type { Alerts } from "./alerts.js";
import type { Notices } from "./notices.js";
import type { VetInfo } from "./session.js";

/** `GET /vet/v1/config`. */
export interface ConsoleConfig {
  twilio_mode: "offline" | "live";
  wrapup_ms: number;
  offer_timeout_ms: number;
  /** `VET_MAX_CONSULTS` (absent from an older gateway). */
  vet_max_consults?: number;
  /** `LICENSING=on` (absent from an older gateway: off). */
  licensing?: boolean;
  /** `OUTCOMES`, the feedback form's choices (absent from an older gateway: the defaults). */
  outcomes?: string[];
}

export interface ConsoleContext {
  config: ConsoleConfig;
  /** The client of the signed-in session, or null while signed out. */
  client(): VetClient | null;
  alerts: Alerts;
  notices: Notices;
  /** The signed-in vet (from the login answer), or null while signed out. */
  vet: VetInfo | null;
}
