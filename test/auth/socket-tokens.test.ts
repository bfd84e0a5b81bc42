/** Socket handshake tokens: HS256 with GATEWAY_SECRET, per-namespace audience, expiry by the injected clock. */
import { SignJWT } from "jose";
import { describe, expect, it } from "vitest";
import { SocketTokens } from "../../src/auth/socket-tokens.js";
import { ManualClock } from "../../src/lib/clock.js";

const SECRET = "a-gateway-secret-of-at-least-32-characters!";

describe("SocketTokens", () => {
  it("round-trips a user and a vet principal, each only on its own namespace", async () => {
    const clock = new ManualClock();
    const tokens = new SocketTokens(SECRET, 3600, clock);
    const user = await tokens.issue({ kind: "user", appId: 3, userId: 42 });
    const vet = await tokens.issueVetLogin({ id: 7, sessionVersion: 3 });
    expect(await tokens.verify(user.token, "user")).toEqual({ kind: "user", appId: 3, userId: 42 });
    expect(await tokens.verify(vet.token, "vet")).toEqual({
      kind: "vet",
      vetId: 7,
      sessionVersion: 3,
      authTime: Math.floor(clock.now() / 1000),
    });
    expect(await tokens.verify(user.token, "vet")).toBeNull();
    expect(await tokens.verify(vet.token, "user")).toBeNull();
  });

  it("expires after SOCKET_TOKEN_TTL_S", async () => {
    const clock = new ManualClock();
    const tokens = new SocketTokens(SECRET, 60, clock);
    const { token, expires_at } = await tokens.issueVetLogin({ id: 1, sessionVersion: 0 });
    expect(Date.parse(expires_at)).toBe(Math.floor(clock.now() / 1000) * 1000 + 60_000);
    clock.advance(59_000);
    expect(await tokens.verify(token, "vet")).not.toBeNull();
    clock.advance(2_000);
    expect(await tokens.verify(token, "vet")).toBeNull();
  });

  it("a vet session is renewed with its version and login time, and never past VET_SESSION_MAX_S from the login", async () => {
    const clock = new ManualClock();
    const tokens = new SocketTokens(SECRET, 3600, clock, 4 * 3600);
    const login = await tokens.issueVetLogin({ id: 5, sessionVersion: 2 });
    const loggedInAt = Math.floor(clock.now() / 1000);
    let p = (await tokens.verify(login.token, "vet"))!;
    // Renewed every 50 minutes: each renewal keeps the login time and the version.
    const expiries: number[] = [];
    for (;;) {
      clock.advance(50 * 60_000);
      if (p.kind !== "vet") throw new Error("unreachable");
      const renewed = await tokens.renewVet(p);
      if (!renewed) break;
      expiries.push(Date.parse(renewed.expires_at) / 1000);
      p = (await tokens.verify(renewed.token, "vet"))!;
      expect(p).toEqual({ kind: "vet", vetId: 5, sessionVersion: 2, authTime: loggedInAt });
    }
    // The last renewal ends exactly at login + 4 h; after that, none.
    expect(Math.max(...expiries)).toBe(loggedInAt + 4 * 3600);
    expect(Math.floor(clock.now() / 1000)).toBeGreaterThanOrEqual(loggedInAt + 4 * 3600);
  });

  it("a login token is cut to VET_SESSION_MAX_S when that is shorter than SOCKET_TOKEN_TTL_S", async () => {
    const clock = new ManualClock();
    const tokens = new SocketTokens(SECRET, 7 * 86400, clock, 3600);
    const { expires_at } = await tokens.issueVetLogin({ id: 1, sessionVersion: 0 });
    expect(Date.parse(expires_at)).toBe(Math.floor(clock.now() / 1000) * 1000 + 3_600_000);
  });

  it("reads a vet token issued before session versions as version 0, logged in when issued", async () => {
    const clock = new ManualClock();
    const tokens = new SocketTokens(SECRET, 3600, clock);
    const iat = Math.floor(clock.now() / 1000);
    const old = await new SignJWT({ vet_id: 9 })
      .setProtectedHeader({ alg: "HS256", typ: "JWT" })
      .setSubject("vet-9")
      .setAudience("vet")
      .setIssuer("vet-gateway")
      .setIssuedAt(iat)
      .setExpirationTime(iat + 600)
      .sign(new TextEncoder().encode(SECRET));
    expect(await tokens.verify(old, "vet")).toEqual({ kind: "vet", vetId: 9, sessionVersion: 0, authTime: iat });
  });

  it("refuses tokens signed with another secret, tampered, or not strings", async () => {
    const clock = new ManualClock();
    const mine = new SocketTokens(SECRET, 3600, clock);
    const theirs = new SocketTokens("another-secret-that-is-also-32-chars-long", 3600, clock);
    const foreign = await theirs.issue({ kind: "user", appId: 1, userId: 1 });
    expect(await mine.verify(foreign.token, "user")).toBeNull();
    const { token } = await mine.issue({ kind: "user", appId: 1, userId: 1 });
    const [h, p, s] = token.split(".");
    const forged = Buffer.from(
      JSON.stringify({ ...JSON.parse(Buffer.from(p, "base64url").toString()), user_id: 2 }),
    ).toString("base64url");
    expect(await mine.verify(`${h}.${forged}.${s}`, "user")).toBeNull();
    for (const junk of [undefined, null, 42, {}, "", "a.b.c", "x".repeat(5000)])
      expect(await mine.verify(junk, "user")).toBeNull();
  });
});
