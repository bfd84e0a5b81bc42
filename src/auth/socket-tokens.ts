import { SignJWT, jwtVerify, errors as joseErrors } from "jose";
import type { Clock } from "../lib/clock.js";

/** Who a socket token admits: a pet owner of one app, or a vet. */
export type SocketPrincipal = { kind: "user"; appId: number; userId: number } | { kind: "vet"; vetId: number };

export interface IssuedToken {
  token: string;
  /** ISO-8601 expiry. */
  expires_at: string;
}

/**
 * HS256 JWTs signed with `GATEWAY_SECRET` for the `/user` and `/vet` socket handshakes.
 * The audience separates the two kinds so a user token never opens `/vet`.
 */
export class SocketTokens {
  private readonly key: Uint8Array;

  constructor(
    secret: string,
    private readonly ttlS: number,
    private readonly clock: Clock,
  ) {
    this.key = new TextEncoder().encode(secret);
  }

  async issue(p: SocketPrincipal): Promise<IssuedToken> {
    const iat = Math.floor(this.clock.now() / 1000);
    const exp = iat + this.ttlS;
    const sub = p.kind === "user" ? `app-${p.appId}_user-${p.userId}` : `vet-${p.vetId}`;
    const claims = p.kind === "user" ? { app_id: p.appId, user_id: p.userId } : { vet_id: p.vetId };
    const token = await new SignJWT(claims)
      .setProtectedHeader({ alg: "HS256", typ: "JWT" })
      .setSubject(sub)
      .setAudience(p.kind)
      .setIssuer("vet-gateway")
      .setIssuedAt(iat)
      .setExpirationTime(exp)
      .sign(this.key);
    return { token, expires_at: new Date(exp * 1000).toISOString() };
  }

  /** The principal of a valid, unexpired token of `kind`, else null. */
  async verify(token: unknown, kind: SocketPrincipal["kind"]): Promise<SocketPrincipal | null> {
    if (typeof token !== "string" || token.length === 0 || token.length > 4096) return null;
    try {
      const { payload } = await jwtVerify(token, this.key, {
        algorithms: ["HS256"],
        audience: kind,
        issuer: "vet-gateway",
        currentDate: new Date(this.clock.now()),
      });
      if (kind === "user") {
        const appId = Number(payload.app_id);
        const userId = Number(payload.user_id);
        return Number.isInteger(appId) && Number.isInteger(userId) ? { kind, appId, userId } : null;
      }
      const vetId = Number(payload.vet_id);
      return Number.isInteger(vetId) ? { kind, vetId } : null;
    } catch (err) {
      if (err instanceof joseErrors.JOSEError) return null;
      throw err;
    }
  }
}
