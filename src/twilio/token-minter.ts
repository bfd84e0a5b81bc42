import type { ResolvedConfig } from "../config.js";
import type { TokenMinter } from "../domain/ports.js";
import type { AccessTokenIssuer } from "./access-tokens.js";
import { userIdentity, vetIdentity } from "./identity.js";

/** The engine's {@link TokenMinter}: §1 identities plus Twilio access tokens. */
export function createTokenMinter(issuer: AccessTokenIssuer, cfg: ResolvedConfig["twilio"]): TokenMinter {
  const mint = (identity: string, room?: string) => {
    const t = issuer.mint(room ? { identity, room } : { identity });
    return { identity, token: t.token, expiresAt: t.expiresAt };
  };
  return {
    forUser: (appId, userId, room) => mint(userIdentity(cfg.identityPrefix, appId, userId), room),
    forVet: (vetId, room) => mint(vetIdentity(cfg.vetAppId, vetId), room),
  };
}
