import { SignJWT, jwtVerify, errors as joseErrors } from "jose";
import type { Clock } from "../lib/clock.js";

/**
 * Who a vet token admits: the vet, at the session version of the vet's record when it was
 * issued (PROTOCOL §7 "Revocation": a bumped version refuses it), and since when: the
 * password login its chain of renewals started from (epoch seconds).
 */
export interface VetPrincipal {
  kind: "vet";
  vetId: number;
  sessionVersion: number;
  authTime: number;
}

/** Who a user token admits: a pet owner of one app. */
export interface UserPrincipal {
  kind: "user";
  appId: number;
  userId: number;
}

/** Who a socket token admits: a pet owner of one app, or a vet. */
export type SocketPrincipal = UserPrincipal | VetPrincipal;

export interface IssuedToken {
  token: string;
  /** ISO-8601 expiry. */
  expires_at: string;
}

/**
 * HS256 JWTs signed with `GATEWAY_SECRET` for the `/user` and `/vet` socket handshakes.
 * The audience separates the two kinds so a user token never opens `/vet`. A vet token
 * carries its session version (`sv`) and login time (`auth_time`), and never outlives
 * `auth_time + vetSessionMaxS`, however often it is renewed.
 */
export class SocketTokens {
  private readonly key: Uint8Array;

  constructor(
    secret: string,
    private readonly ttlS: number,
    private readonly clock: Clock,
    private readonly vetSessionMaxS = 43_200,
  ) {
    this.key = new TextEncoder().encode(secret);
  }

  /** A `/user` token for the owner `p`. */
  issue(p: UserPrincipal): Promise<IssuedToken> {
    const iat = this.nowS();
    return this.sign(p, iat, iat + this.ttlS);
  }

  /** A `/vet` token for a password login now, at the vet record's `sessionVersion`. */
  issueVetLogin(vet: { id: number; sessionVersion: number }): Promise<IssuedToken> {
    const iat = this.nowS();
    const p: VetPrincipal = { kind: "vet", vetId: vet.id, sessionVersion: vet.sessionVersion, authTime: iat };
    return this.sign(p, iat, Math.min(iat + this.ttlS, iat + this.vetSessionMaxS));
  }

  /**
   * A renewal of the vet token `p` (its version and login time carried over), or null once
   * the session reached `VET_SESSION_MAX_S` from that login: the vet logs in again.
   */
  async renewVet(p: VetPrincipal): Promise<IssuedToken | null> {
    const iat = this.nowS();
    const exp = Math.min(iat + this.ttlS, p.authTime + this.vetSessionMaxS);
    return exp > iat ? this.sign(p, iat, exp) : null;
  }

  private nowS(): number {
    return Math.floor(this.clock.now() / 1000);
  }

  private async sign(p: SocketPrincipal, iat: number, exp: number): Promise<IssuedToken> {
    const sub = p.kind === "user" ? `app-${p.appId}_user-${p.userId}` : `vet-${p.vetId}`;
    const claims =
      p.kind === "user"
        ? { app_id: p.appId, user_id: p.userId }
        : { vet_id: p.vetId, sv: p.sessionVersion, auth_time: p.authTime };
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
      // Tokens issued before revocation existed carry neither: version 0, logged in when issued.
      const sessionVersion = Number(payload.sv ?? 0);
      const authTime = Number(payload.auth_time ?? payload.iat);
      return Number.isInteger(vetId) && Number.isInteger(sessionVersion) && Number.isInteger(authTime)
        ? { kind, vetId, sessionVersion, authTime }
        : null;
    } catch (err) {
      if (err instanceof joseErrors.JOSEError) return null;
      throw err;
    }
  }
}
