/** The authenticator's abuse guards (PROTOCOL §7): no query per probed name, the scrypt cap shared with vet login. */
import { describe, expect, it } from "vitest";
import { createAppAuthenticator, type AppLookup } from "../../../src/auth/app-auth.js";
import { AppError } from "../../../src/lib/app-error.js";
import { createScryptGate } from "../../../src/lib/passwords.js";
import type { AppRecord } from "../../../src/repositories/apps.js";
import { basicAuth } from "../../support/gateway.js";

const petcube: AppRecord = { id: 7, name: "petcube", mediaUrl: null };
const SECRET = "petcube-secret-0123456789";
const GATEWAY_SECRET = "app-auth-limits-gateway-secret-0123456789";

/** A one-app table without a verifier (so scrypt decides); the stored "hash" is the secret itself, checked by the slow verifier below. */
function table(): { lookup: AppLookup; reads: { n: number; names: number } } {
  const reads = { n: 0, names: 0 };
  return {
    reads,
    lookup: {
      listForAuth: () => {
        reads.n++;
        return Promise.resolve([{ ...petcube, secretVerifier: null, demo: false }]);
      },
      findForAuth: (name) => {
        reads.names++;
        return Promise.resolve(name === petcube.name ? { ...petcube, secretVerifier: null, demo: false } : null);
      },
      findWithSecret: (id) => Promise.resolve(id === petcube.id ? { ...petcube, secretHash: SECRET } : null),
      storeVerifier: () => Promise.resolve(),
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
  it("probing thousands of names costs one read of the apps table on the way in, and one query per name once counted", async () => {
    const { lookup, reads } = table();
    const auth = createAppAuthenticator(lookup, { gatewaySecret: GATEWAY_SECRET, unknownCacheSize: 50 });
    for (let i = 0; i < 2000; i++) expect((await auth.check(`ghost-${i}`, undefined)).result).toBe("unknown_app");
    expect(reads).toEqual({ n: 1, names: 0 });
    // Past the per-address count (resolve): a burst naming one app is one query, and bounded memory.
    await Promise.all(Array.from({ length: 100 }, () => auth.resolve("ghost", undefined)));
    expect(reads.names).toBe(1);
    for (let i = 0; i < 200; i++) await auth.resolve(`ghost-${i}`, undefined);
    expect(await auth.findByName("petcube")).toEqual(petcube);
    expect(reads.n).toBe(1);
  });

  it("runs at most two scrypt checks at once on the node's gate, and answers 503 beyond the waiting bound", async () => {
    const { lookup } = table();
    const v = slowVerifier(20);
    const auth = createAppAuthenticator(lookup, {
      gatewaySecret: GATEWAY_SECRET,
      verifySecret: v.fn,
      scrypt: createScryptGate({ maxQueued: 10 }),
    });
    const results = await Promise.allSettled(
      Array.from({ length: 30 }, (_, i) => auth.verifySlow(petcube, basicAuth("petcube", `wrong-${i}`))),
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
    expect(await auth.verifySlow(petcube, basicAuth("petcube", SECRET))).toBe(true);
  });

  it("the gate is one per node: a check waiting on it counts for every user of the gate", async () => {
    const gate = createScryptGate({ concurrency: 1, maxQueued: 1 });
    let release!: () => void;
    const held = gate.run(() => new Promise<void>((r) => (release = r)));
    const waiting = gate.run(() => Promise.resolve("second"));
    expect(gate.pending).toBe(1);
    await expect(gate.run(() => Promise.resolve("third"))).rejects.toMatchObject({ status: 503 });
    release();
    await held;
    expect(await waiting).toBe("second");
  });
});
