/**
 * The one seam between the console and the Twilio SDKs: live.ts loads this module with
 * `import()` only in live mode, so it and the SDKs land in a lazy chunk. Browser tests
 * replace this chunk with a fake implementing the same {@link TwilioSdk}.
 */
import { Client } from "@twilio/conversations";
import { connect } from "twilio-video";
import type { TwilioSdk } from "./twilio-types.js";

const sdk: TwilioSdk = {
  chatClient: (token) => new Client(token),
  connectVideo: (token, options) => connect(token, options),
};
export default sdk;
