/** The authenticator's abuse guards (PROTOCOL §7): the free cached path, the unknown-name cache, the scrypt cap. */
import { describe, expect, it } from "vitest";
import { createAppAuthenticator, type AppLookup } from "../../src/auth/app-auth.js";
import { AppError } from "../../src/lib/envelope.js";
import type { AppRecord } from "../../src/repositories/apps.js";
import { basicAuth } from "../support/gateway.js";

const petcube: AppRecord = { id: 7, name: "petcube", mediaUrl: null };
const SECRET = "petcube-secret-0123456789";

/** A one-app table; the stored "hash" is the secret itself, checked by the slow verifier below. */
function table(): { lookup: AppLookup; lookups: string[] } {
  const lookups: string[] = [];
  return {
    lookups,
    lookup: {
      findByName: (name) => {
        lookups.push(name);
        return Promise.resolve(name === petcube.name ? petcube : null);
      },
      findWithSecret: (id) => Promise.resolve(id === petcube.id ? { ...petcube, secretHash: SECRET } : null),
    },
  };
}

/** A slow verifier that records how many checks run at once. */
function slowVerifier(ms = 20) {
  const seen = { running: 0, peak: 0, calls: 0 };
  const fn = async (secret: string, stored: string) => {
    seen.calls++;
    seen.running++;
    seen.peak = Math.max(seen.peak, seen.running);
    await new Promise((r) => setTimeout(r, ms));
    seen.running--;
    return secret === stored;
  };
  return { seen, fn };
}

describe("app authenticator under abuse", () => {
  it("authenticateCached answers only for a known name with a verified secret, without any lookup", async () => {
    const { lookup, lookups } = table();
    const v = slowVerifier(1);
    const auth = createAppAuthenticator(lookup, { verifySecret: v.fn });
    expect(auth.authenticateCached("petcube", basicAuth("petcube", SECRET))).toBeNull();
    const app = await auth.findByName("petcube");
    expect(auth.authenticateCached("petcube", basicAuth("petcube", SECRET))).toBeNull();
    expect(await auth.verify(app!, basicAuth("petcube", SECRET))).toBe(true);
    const before = lookups.length;
    expect(auth.authenticateCached("petcube", basicAuth("petcube", SECRET))).toEqual(petcube);
    expect(auth.authenticateCached("petcube", basicAuth(7, SECRET))).toEqual(petcube);
    expect(auth.authenticateCached("petcube", basicAuth("petcube", "wrong"))).toBeNull();
    expect(auth.authenticateCached("petcube", basicAuth("other", SECRET))).toBeNull();
    expect(auth.authenticateCached("petcube", undefined)).toBeNull();
    expect(lookups.length).toBe(before);
  });

  it("remembers unknown names apart: probing thousands of them never evicts a real app", async () => {
    const { lookup, lookups } = table();
    const auth = createAppAuthenticator(lookup, { appCacheSize: 2, unknownCacheSize: 2 });
    await auth.findByName("petcube");
    for (let i = 0; i < 2000; i++) await auth.findByName(`ghost-${i % 50}`);
    const petcubeLookups = lookups.filter((n) => n === "petcube").length;
    await auth.findByName("petcube");
    expect(lookups.filter((n) => n === "petcube").length).toBe(petcubeLookups);
    // The same unknown name, hammered in a burst, is looked up once.
    const fresh = createAppAuthenticator(lookup);
    const base = lookups.length;
    await Promise.all(Array.from({ length: 100 }, () => fresh.findByName("ghost")));
    for (let i = 0; i < 100; i++) await fresh.findByName("ghost");
    expect(lookups.length - base).toBe(1);
  });

  it("runs at most two scrypt checks at once, and answers 503 beyond the waiting bound", async () => {
    const { lookup } = table();
    const v = slowVerifier(20);
    const auth = createAppAuthenticator(lookup, { verifySecret: v.fn, maxQueuedScrypt: 10 });
    const results = await Promise.allSettled(
      Array.from({ length: 30 }, (_, i) => auth.verify(petcube, basicAuth("petcube", `wrong-${i}`))),
    );
    expect(v.seen.peak).toBe(2);
    const refused = results.filter((r) => r.status === "rejected");
    expect(refused.length).toBeGreaterThan(0);
    for (const r of refused) {
      expect(r.reason).toBeInstanceOf(AppError);
      expect((r.reason as AppError).status).toBe(503);
    }
    for (const r of results) if (r.status === "fulfilled") expect(r.value).toBe(false);
    // The cap never blocks the real secret once the flood drained.
    expect(await auth.verify(petcube, basicAuth("petcube", SECRET))).toBe(true);
  });
});
