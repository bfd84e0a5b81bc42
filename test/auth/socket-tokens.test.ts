/** Socket handshake tokens: HS256 with GATEWAY_SECRET, per-namespace audience, expiry by the injected clock. */
import { describe, expect, it } from "vitest";
import { SocketTokens } from "../../src/auth/socket-tokens.js";
import { ManualClock } from "../../src/lib/clock.js";

const SECRET = "a-gateway-secret-of-at-least-32-characters!";

describe("SocketTokens", () => {
  it("round-trips a user and a vet principal, each only on its own namespace", async () => {
    const tokens = new SocketTokens(SECRET, 3600, new ManualClock());
    const user = await tokens.issue({ kind: "user", appId: 3, userId: 42 });
    const vet = await tokens.issue({ kind: "vet", vetId: 7 });
    expect(await tokens.verify(user.token, "user")).toEqual({ kind: "user", appId: 3, userId: 42 });
    expect(await tokens.verify(vet.token, "vet")).toEqual({ kind: "vet", vetId: 7 });
    expect(await tokens.verify(user.token, "vet")).toBeNull();
    expect(await tokens.verify(vet.token, "user")).toBeNull();
  });

  it("expires after SOCKET_TOKEN_TTL_S", async () => {
    const clock = new ManualClock();
    const tokens = new SocketTokens(SECRET, 60, clock);
    const { token, expires_at } = await tokens.issue({ kind: "vet", vetId: 1 });
    expect(Date.parse(expires_at)).toBe(Math.floor(clock.now() / 1000) * 1000 + 60_000);
    clock.advance(59_000);
    expect(await tokens.verify(token, "vet")).not.toBeNull();
    clock.advance(2_000);
    expect(await tokens.verify(token, "vet")).toBeNull();
  });

  it("refuses tokens signed with another secret, tampered, or not strings", async () => {
    const clock = new ManualClock();
    const mine = new SocketTokens(SECRET, 3600, clock);
    const theirs = new SocketTokens("another-secret-that-is-also-32-chars-long", 3600, clock);
    const foreign = await theirs.issue({ kind: "user", appId: 1, userId: 1 });
    expect(await mine.verify(foreign.token, "user")).toBeNull();
    const { token } = await mine.issue({ kind: "user", appId: 1, userId: 1 });
    const [h, p, s] = token.split(".");
    const forged = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(p, "base64url").toString()), user_id: 2 })).toString("base64url");
    expect(await mine.verify(`${h}.${forged}.${s}`, "user")).toBeNull();
    for (const junk of [undefined, null, 42, {}, "", "a.b.c", "x".repeat(5000)]) expect(await mine.verify(junk, "user")).toBeNull();
  });
});
