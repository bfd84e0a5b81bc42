import { inspect } from "node:util";
import { beforeAll, describe, expect, it } from "vitest";
import { createAppAuthenticator, parseBasic, TtlCache, type AppLookup } from "../../src/auth/app-auth.js";
import { hashSecret, verifySecret } from "../../src/auth/passwords.js";
import { ManualClock } from "../../src/lib/clock.js";
import type { AppRecord, AppWithSecret } from "../../src/repositories/apps.js";
import { basicAuth } from "../support/gateway.js";

const SECRET = "petcube-secret-0123456789";
const OTHER_SECRET = "other-app-secret-9876543210";

/** An in-memory app table that counts lookups. */
function fakeApps(rows: AppWithSecret[]) {
  const calls = { findByName: 0, findWithSecret: 0 };
  const strip = ({ secretHash: _s, ...app }: AppWithSecret): AppRecord => app;
  const lookup: AppLookup = {
    findByName: (name) => {
      calls.findByName++;
      const row = rows.find((r) => r.name === name);
      return Promise.resolve(row ? strip(row) : null);
    },
    findWithSecret: (id) => {
      calls.findWithSecret++;
      return Promise.resolve(rows.find((r) => r.id === id) ?? null);
    },
  };
  return { lookup, calls, rows };
}

/** Wraps scrypt verification to count calls. */
function countingVerify() {
  const counter = { calls: 0 };
  const fn = async (secret: string, hash: string) => {
    counter.calls++;
    return verifySecret(secret, hash);
  };
  return { counter, fn };
}

describe("app authenticator", () => {
  let petcube: AppWithSecret;
  let other: AppWithSecret;
  beforeAll(async () => {
    petcube = { id: 7, name: "petcube", mediaUrl: null, secretHash: await hashSecret(SECRET) };
    other = { id: 8, name: "other", mediaUrl: null, secretHash: await hashSecret(OTHER_SECRET) };
  });

  const app = (r: AppWithSecret): AppRecord => ({ id: r.id, name: r.name, mediaUrl: r.mediaUrl });

  it("accepts the app's own name or numeric id with the right secret", async () => {
    const { lookup } = fakeApps([petcube, other]);
    const auth = createAppAuthenticator(lookup);
    expect(await auth.verify(app(petcube), basicAuth("petcube", SECRET))).toBe(true);
    expect(await auth.verify(app(petcube), basicAuth(7, SECRET))).toBe(true);
    expect(await auth.verify(app(petcube), `basic  ${Buffer.from(`petcube:${SECRET}`).toString("base64")}`)).toBe(true);
  });

  it("refuses another app's credentials, wrong users and malformed headers", async () => {
    const { lookup } = fakeApps([petcube, other]);
    const auth = createAppAuthenticator(lookup);
    expect(await auth.verify(app(petcube), basicAuth("other", OTHER_SECRET))).toBe(false);
    expect(await auth.verify(app(petcube), basicAuth(8, OTHER_SECRET))).toBe(false);
    expect(await auth.verify(app(petcube), basicAuth("other", SECRET))).toBe(false);
    expect(await auth.verify(app(petcube), basicAuth("007", SECRET))).toBe(false);
    expect(await auth.verify(app(petcube), basicAuth("petcube", "wrong-secret-0000000"))).toBe(false);
    expect(await auth.verify(app(petcube), undefined)).toBe(false);
    expect(await auth.verify(app(petcube), "")).toBe(false);
    expect(await auth.verify(app(petcube), `Bearer ${SECRET}`)).toBe(false);
    expect(await auth.verify(app(petcube), "Basic !!!")).toBe(false);
    expect(await auth.verify(app(petcube), `Basic ${Buffer.from("petcube").toString("base64")}`)).toBe(false);
    expect(await auth.verify(app(petcube), basicAuth("petcube", ""))).toBe(false);
    expect(await auth.verify(app(petcube), `Basic ${"A".repeat(5000)}`)).toBe(false);
  });

  it("runs scrypt once, then answers from the cached verifier until it expires", async () => {
    const { lookup, calls } = fakeApps([petcube]);
    const clock = new ManualClock();
    const { counter, fn } = countingVerify();
    const auth = createAppAuthenticator(lookup, { clock, verifierTtlMs: 60_000, verifySecret: fn });
    for (let i = 0; i < 20; i++) expect(await auth.verify(app(petcube), basicAuth("petcube", SECRET))).toBe(true);
    expect(counter.calls).toBe(1);
    expect(calls.findWithSecret).toBe(1);
    // Name or id: the same app, the same verifier.
    expect(await auth.verify(app(petcube), basicAuth(7, SECRET))).toBe(true);
    expect(counter.calls).toBe(1);

    clock.advance(60_001);
    expect(await auth.verify(app(petcube), basicAuth("petcube", SECRET))).toBe(true);
    expect(counter.calls).toBe(2);
  });

  it("rejects a wrong secret after a cached success", async () => {
    const { lookup } = fakeApps([petcube]);
    const { counter, fn } = countingVerify();
    const auth = createAppAuthenticator(lookup, { verifySecret: fn });
    expect(await auth.verify(app(petcube), basicAuth("petcube", SECRET))).toBe(true);
    expect(await auth.verify(app(petcube), basicAuth("petcube", `${SECRET}x`))).toBe(false);
    expect(await auth.verify(app(petcube), basicAuth("petcube", SECRET.slice(0, -1)))).toBe(false);
    expect(await auth.verify(app(petcube), basicAuth("petcube", "x"))).toBe(false);
    // The good secret is still accepted from the cache afterwards.
    const before = counter.calls;
    expect(await auth.verify(app(petcube), basicAuth("petcube", SECRET))).toBe(true);
    expect(counter.calls).toBe(before);
  });

  it("picks up a secret changed in the database (the stored hash decides on a mismatch)", async () => {
    const { lookup, rows } = fakeApps([{ ...petcube }]);
    const auth = createAppAuthenticator(lookup);
    expect(await auth.verify(app(petcube), basicAuth("petcube", SECRET))).toBe(true);
    rows[0].secretHash = await hashSecret("rotated-secret-0123456789");
    expect(await auth.verify(app(petcube), basicAuth("petcube", "rotated-secret-0123456789"))).toBe(true);
    expect(await auth.verify(app(petcube), basicAuth("petcube", SECRET))).toBe(false);
  });

  it("refuses a repeated wrong secret without another scrypt until the stored secret changes or it expires", async () => {
    const { lookup, rows } = fakeApps([{ ...petcube }]);
    const clock = new ManualClock();
    const { counter, fn } = countingVerify();
    const auth = createAppAuthenticator(lookup, { clock, rejectedTtlMs: 60_000, verifySecret: fn });
    const next = "next-secret-0123456789";
    for (let i = 0; i < 10; i++) expect(await auth.verify(app(petcube), basicAuth("petcube", next))).toBe(false);
    expect(counter.calls).toBe(1);
    // Another wrong secret is its own scrypt; the right one still passes.
    expect(await auth.verify(app(petcube), basicAuth("petcube", "another-wrong-0000000"))).toBe(false);
    expect(await auth.verify(app(petcube), basicAuth("petcube", SECRET))).toBe(true);
    expect(counter.calls).toBe(3);
    // The app's secret becomes the one refused before: the remembered failure no longer applies.
    rows[0].secretHash = await hashSecret(next);
    expect(await auth.verify(app(petcube), basicAuth("petcube", next))).toBe(true);
    expect(counter.calls).toBe(4);
    // Remembered failures expire.
    expect(await auth.verify(app(petcube), basicAuth("petcube", SECRET))).toBe(false);
    expect(await auth.verify(app(petcube), basicAuth("petcube", SECRET))).toBe(false);
    expect(counter.calls).toBe(5);
    clock.advance(60_001);
    expect(await auth.verify(app(petcube), basicAuth("petcube", SECRET))).toBe(false);
    expect(counter.calls).toBe(6);
  });

  it("shares one scrypt between concurrent first-time checks of the same credentials", async () => {
    const { lookup, calls } = fakeApps([petcube]);
    const { counter, fn } = countingVerify();
    const auth = createAppAuthenticator(lookup, { verifySecret: fn });
    const results = await Promise.all(
      Array.from({ length: 25 }, () => auth.verify(app(petcube), basicAuth("petcube", SECRET))),
    );
    expect(results.every(Boolean)).toBe(true);
    expect(counter.calls).toBe(1);
    expect(calls.findWithSecret).toBe(1);

    // Different wrong secrets are not merged with each other.
    const wrong = await Promise.all([
      auth.verify(app(petcube), basicAuth("petcube", "wrong-one-000000000")),
      auth.verify(app(petcube), basicAuth("petcube", "wrong-one-000000000")),
      auth.verify(app(petcube), basicAuth("petcube", "wrong-two-000000000")),
    ]);
    expect(wrong).toEqual([false, false, false]);
    expect(counter.calls).toBe(3);
  });

  it("never holds the plaintext secret in its caches", async () => {
    const { lookup } = fakeApps([petcube]);
    const auth = createAppAuthenticator(lookup);
    const header = basicAuth("petcube", SECRET);
    const pending = auth.verify(app(petcube), header);
    // While scrypt is in flight, and after it completed.
    const states = [inspect(auth, { depth: Infinity, showHidden: true, maxArrayLength: Infinity, maxStringLength: Infinity })];
    expect(await pending).toBe(true);
    expect(await auth.verify(app(petcube), header)).toBe(true);
    states.push(inspect(auth, { depth: Infinity, showHidden: true, maxArrayLength: Infinity, maxStringLength: Infinity }));

    const secretBytes = Buffer.from(SECRET);
    for (const dump of states) {
      expect(dump).toContain("verifiers"); // the dump does show the caches
      expect(dump).not.toContain(SECRET);
      expect(dump).not.toContain(header.slice("Basic ".length));
      expect(dump).not.toContain(secretBytes.toString("hex"));
      expect(dump).not.toContain(secretBytes.toString("base64"));
    }
    // The verifier itself is a 32-byte digest, not the secret in any encoding.
    const verifiers = (auth as unknown as { verifiers: TtlCache<number, Buffer> }).verifiers;
    const stored = verifiers.get(petcube.id);
    expect(stored).toBeInstanceOf(Buffer);
    expect(stored!.length).toBe(32);
    expect(stored!.includes(secretBytes)).toBe(false);
  });

  it("caches name lookups briefly, unknown names included, and can forget one", async () => {
    const { lookup, calls } = fakeApps([petcube]);
    const clock = new ManualClock();
    const auth = createAppAuthenticator(lookup, { clock, appTtlMs: 5_000 });
    expect(await auth.findByName("petcube")).toMatchObject({ id: 7, name: "petcube" });
    expect(await auth.findByName("petcube")).toMatchObject({ id: 7 });
    expect(await auth.findByName("nope")).toBeNull();
    expect(await auth.findByName("nope")).toBeNull();
    expect(calls.findByName).toBe(2);
    clock.advance(5_001);
    await auth.findByName("petcube");
    expect(calls.findByName).toBe(3);

    auth.forget("nope");
    await auth.findByName("nope");
    expect(calls.findByName).toBe(4);

    // Concurrent misses share one query; absurd names never reach the database.
    const c = createAppAuthenticator(lookup, { clock });
    const before = calls.findByName;
    await Promise.all(Array.from({ length: 10 }, () => c.findByName("petcube")));
    expect(calls.findByName).toBe(before + 1);
    expect(await c.findByName("x".repeat(300))).toBeNull();
    expect(await c.findByName("")).toBeNull();
    expect(calls.findByName).toBe(before + 1);
  });

  it("keeps its caches bounded", async () => {
    const { lookup } = fakeApps([petcube]);
    const auth = createAppAuthenticator(lookup, { unknownCacheSize: 3 });
    for (let i = 0; i < 20; i++) await auth.findByName(`probe-${i}`);
    const names = (auth as unknown as { unknownNames: TtlCache<string, unknown> }).unknownNames;
    expect(names.size).toBe(3);

    const cache = new TtlCache<number, string>(2, new ManualClock());
    cache.set(1, "a", 1000);
    cache.set(2, "b", 1000);
    cache.set(3, "c", 1000);
    expect([cache.get(1), cache.get(2), cache.get(3)]).toEqual([undefined, "b", "c"]);
  });

  it("parses Basic headers strictly", () => {
    expect(parseBasic(basicAuth("a", "b:c"))).toEqual({ user: "a", secret: "b:c" });
    expect(parseBasic(`Basic ${Buffer.from(":x").toString("base64")}`)).toBeNull();
    expect(parseBasic("Basic")).toBeNull();
    expect(parseBasic("Digest abc")).toBeNull();
  });
});
