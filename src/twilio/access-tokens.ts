import { createSecretKey } from "node:crypto";
import twilio from "twilio";
import type { ResolvedConfig } from "../config.js";
import type { Clock } from "../lib/clock.js";

const { AccessToken } = twilio.jwt;

/** A signed Twilio access token and when it stops being valid. */
export interface MintedToken {
  /** The JWT (HS256, header `cty: twilio-fpa;v=1`) for the Twilio client SDKs. */
  token: string;
  /** Expiry in epoch milliseconds, on whole seconds like the JWT's `exp`. */
  expiresAt: number;
}

/** Mints Twilio access tokens for the Conversations and Video client SDKs. */
export interface AccessTokenIssuer {
  /**
   * A token for `identity` with a Chat grant (the chat service and push credential of the
   * configuration) and, when `room` is given, a Video grant limited to that room.
   * Lifetime: `TOKEN_TTL_S`. Throws RangeError on an empty identity or room.
   */
  mint(input: { identity: string; room?: string }): MintedToken;
}

/**
 * Builds the issuer. The API secret is turned into a `KeyObject` once: given a string,
 * jsonwebtoken tries `createPrivateKey` (and fails) on every sign, which caps minting at
 * ~2.7k tokens/s; with the KeyObject one core mints ~115k/s (bench/tokens.ts).
 *
 * `expiresAt` comes from `clock`. The JWT's own `iat`/`exp` are stamped by AccessToken and
 * jsonwebtoken from `Date.now()`; with the production `systemClock` the two agree (the clock
 * is read first, so `expiresAt` is never later than `exp`). A test that moves a ManualClock
 * and also decodes the JWT should move the system time too (`vi.setSystemTime`).
 */
export function createAccessTokenIssuer(cfg: ResolvedConfig["twilio"], clock: Clock): AccessTokenIssuer {
  // AccessToken's typings say string, but it hands the value straight to jsonwebtoken,
  // which takes a KeyObject as is; the cast is confined to this one line.
  const secret = createSecretKey(Buffer.from(cfg.apiSecret, "utf8")) as unknown as string;
  const ttl = cfg.tokenTtlS;
  const chat = { serviceSid: cfg.chatServiceSid, pushCredentialSid: cfg.pushCredentialSid };

  return {
    mint({ identity, room }) {
      if (identity === "") throw new RangeError("identity must not be empty");
      // VideoGrant drops an empty room, which would grant every room of the account.
      if (room === "") throw new RangeError("room must not be empty");
      const nowS = Math.floor(clock.now() / 1000);
      const token = new AccessToken(cfg.accountSid, cfg.apiKey, secret, { identity, ttl });
      token.addGrant(new AccessToken.ChatGrant(chat));
      if (room !== undefined) token.addGrant(new AccessToken.VideoGrant({ room }));
      return { token: token.toJwt(), expiresAt: (nowS + ttl) * 1000 };
    },
  };
}
