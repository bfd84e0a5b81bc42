import { inspect } from "node:util";
import { beforeAll, describe, expect, it } from "vitest";
import { createAppAuthenticator, parseBasic, TtlCache, type AppLookup } from "../../src/auth/app-auth.js";
import { AppSecretVerifier } from "../../src/auth/app-secret-verifier.js";
import { hashSecret, verifySecret } from "../../src/lib/passwords.js";
import { ManualClock } from "../../src/lib/clock.js";
import type { AppAuthRecord } from "../../src/repositories/apps.js";
import { basicAuth } from "../support/gateway.js";

const SECRET = "petcube-secret-0123456789";
const OTHER_SECRET = "other-app-secret-9876543210";
const GATEWAY_SECRET = "app-auth-test-gateway-secret-0123456789";

type Row = AppAuthRecord & { secretHash: string };

/** An in-memory apps table that counts reads and records stored verifiers. */
function fakeApps(rows: Row[]) {
  const calls = { listForAuth: 0, findForAuth: 0, findWithSecret: 0, storeVerifier: 0 };
  const strip = ({ secretHash: _s, ...app }: Row): AppAuthRecord => ({ ...app });
  const lookup: AppLookup = {
    listForAuth: () => {
      calls.listForAuth++;
      return Promise.resolve(rows.map(strip));
    },
    findForAuth: (name) => {
      calls.findForAuth++;
      const row = rows.find((r) => r.name === name);
      return Promise.resolve(row ? strip(row) : null);
    },
    findWithSecret: (id) => {
      calls.findWithSecret++;
      const row = rows.find((r) => r.id === id);
      return Promise.resolve(
        row ? { id: row.id, name: row.name, mediaUrl: row.mediaUrl, secretHash: row.secretHash } : null,
      );
    },
    storeVerifier: (id, hash, verifier) => {
      calls.storeVerifier++;
      const row = rows.find((r) => r.id === id && r.secretHash === hash);
      if (row) row.secretVerifier = verifier;
      return Promise.resolve();
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

const verifier = new AppSecretVerifier(GATEWAY_SECRET);

describe("app authenticator", () => {
  let petcube: Row;
  let other: Row;
  beforeAll(async () => {
    petcube = {
      id: 7,
      name: "petcube",
      mediaUrl: null,
      demo: false,
      secretHash: await hashSecret(SECRET),
      secretVerifier: verifier.make("petcube", SECRET),
    };
    other = {
      id: 8,
      name: "other",
      mediaUrl: null,
      demo: false,
      secretHash: await hashSecret(OTHER_SECRET),
      secretVerifier: verifier.make("other", OTHER_SECRET),
    };
  });
  const auth = (lookup: AppLookup, extra: Partial<Parameters<typeof createAppAuthenticator>[1]> = {}) =>
    createAppAuthenticator(lookup, { gatewaySecret: GATEWAY_SECRET, ...extra });

  it("accepts the app's own name or numeric id with the right secret, from the stored verifier alone", async () => {
    const { lookup, calls } = fakeApps([{ ...petcube }, { ...other }]);
    const { counter, fn } = countingVerify();
    const a = auth(lookup, { verifySecret: fn });
    expect(await a.check("petcube", basicAuth("petcube", SECRET))).toMatchObject({ result: "ok", app: { id: 7 } });
    expect(await a.check("petcube", basicAuth(7, SECRET))).toMatchObject({ result: "ok" });
    expect(await a.check("petcube", `basic  ${Buffer.from(`petcube:${SECRET}`).toString("base64")}`)).toMatchObject({
      result: "ok",
    });
    expect(counter.calls).toBe(0);
    expect(calls.findWithSecret).toBe(0);
  });

  it("refuses another app's credentials, wrong secrets, wrong users and malformed headers, without scrypt", async () => {
    const { lookup } = fakeApps([{ ...petcube }, { ...other }]);
    const { counter, fn } = countingVerify();
    const a = auth(lookup, { verifySecret: fn });
    for (const header of [
      basicAuth("other", OTHER_SECRET),
      basicAuth(8, OTHER_SECRET),
      basicAuth("other", SECRET),
      basicAuth("007", SECRET),
      basicAuth("petcube", "wrong-secret-0000000"),
      basicAuth("petcube", `${SECRET}x`),
      basicAuth("petcube", SECRET.slice(0, -1)),
      undefined,
      "",
      `Bearer ${SECRET}`,
      "Basic !!!",
      `Basic ${Buffer.from("petcube").toString("base64")}`,
      basicAuth("petcube", ""),
      `Basic ${"A".repeat(5000)}`,
    ]) {
      expect(await a.check("petcube", header)).toMatchObject({ result: "wrong", app: { id: 7 } });
    }
    expect(counter.calls).toBe(0);
    expect(await a.check("nope", basicAuth("nope", SECRET))).toEqual({ result: "unknown_app" });
  });

  it("an app without a current verifier needs scrypt once; the verifier it stores then decides", async () => {
    const { lookup, calls, rows } = fakeApps([{ ...petcube, secretVerifier: null }]);
    const { counter, fn } = countingVerify();
    const a = auth(lookup, { verifySecret: fn });
    const first = await a.check("petcube", basicAuth("petcube", SECRET));
    expect(first).toMatchObject({ result: "needs_scrypt" });
    if (first.result !== "needs_scrypt") throw new Error("unreachable");
    expect(await a.verifySlow(first.app, basicAuth("petcube", SECRET))).toBe(true);
    expect(counter.calls).toBe(1);
    expect(calls.storeVerifier).toBe(1);
    expect(rows[0].secretVerifier).toBe(verifier.make("petcube", SECRET));
    // This node and a fresh one (a restart) now decide without scrypt.
    expect(await a.check("petcube", basicAuth("petcube", SECRET))).toMatchObject({ result: "ok" });
    expect(await auth(lookup).check("petcube", basicAuth("petcube", SECRET))).toMatchObject({ result: "ok" });
    expect(await a.check("petcube", basicAuth("petcube", "wrong-secret-0000000"))).toMatchObject({ result: "wrong" });
    expect(counter.calls).toBe(1);
  });

  it("a verifier made under another gateway secret is stale: scrypt decides and replaces it", async () => {
    const stale = new AppSecretVerifier("another-gateway-secret-0123456789abcdef").make("petcube", SECRET);
    const { lookup, rows } = fakeApps([{ ...petcube, secretVerifier: stale }]);
    const a = auth(lookup);
    const verdict = await a.check("petcube", basicAuth("petcube", SECRET));
    expect(verdict.result).toBe("needs_scrypt");
    expect(await a.verifySlow(petcube, basicAuth("petcube", SECRET))).toBe(true);
    expect(rows[0].secretVerifier).toBe(verifier.make("petcube", SECRET));
  });

  it("refuses a repeated wrong secret without another scrypt until the stored secret changes or it expires", async () => {
    const { lookup, rows } = fakeApps([{ ...petcube, secretVerifier: null }]);
    const clock = new ManualClock();
    const { counter, fn } = countingVerify();
    const a = auth(lookup, { clock, rejectedTtlMs: 60_000, verifySecret: fn });
    const next = "next-secret-0123456789";
    for (let i = 0; i < 10; i++) expect(await a.verifySlow(petcube, basicAuth("petcube", next))).toBe(false);
    expect(counter.calls).toBe(1);
    // The app's secret becomes the one refused before: the remembered failure no longer applies.
    rows[0].secretHash = await hashSecret(next);
    expect(await a.verifySlow(petcube, basicAuth("petcube", next))).toBe(true);
    expect(counter.calls).toBe(2);
    rows[0].secretVerifier = null;
    expect(await a.verifySlow(petcube, basicAuth("petcube", SECRET))).toBe(false);
    expect(await a.verifySlow(petcube, basicAuth("petcube", SECRET))).toBe(false);
    expect(counter.calls).toBe(3);
    clock.advance(60_001);
    expect(await a.verifySlow(petcube, basicAuth("petcube", SECRET))).toBe(false);
    expect(counter.calls).toBe(4);
  });

  it("shares one scrypt between concurrent checks of the same credentials", async () => {
    const { lookup, calls } = fakeApps([{ ...petcube, secretVerifier: null }]);
    const { counter, fn } = countingVerify();
    const a = auth(lookup, { verifySecret: fn });
    const results = await Promise.all(
      Array.from({ length: 25 }, () => a.verifySlow(petcube, basicAuth("petcube", SECRET))),
    );
    expect(results.every(Boolean)).toBe(true);
    expect(counter.calls).toBe(1);
    expect(calls.findWithSecret).toBe(1);
  });

  it("reads the apps table once per appTtlMs however many requests; check() never queries a name, resolve() looks a missing one up once", async () => {
    const { lookup, calls, rows } = fakeApps([{ ...petcube }]);
    const clock = new ManualClock();
    const a = auth(lookup, { clock, appTtlMs: 5_000, unknownTtlMs: 5_000 });
    await Promise.all(Array.from({ length: 20 }, (_, i) => a.check(i % 2 ? "petcube" : `probe-${i}`, undefined)));
    expect((await a.check("petcube", basicAuth("petcube", SECRET))).result).toBe("ok");
    expect(await a.check("nope", undefined)).toEqual({ result: "unknown_app" });
    expect(calls).toMatchObject({ listForAuth: 1, findForAuth: 0 });
    clock.advance(5_001);
    await a.check("nope", undefined);
    expect(calls.listForAuth).toBe(2);

    // An app created on another node a moment ago: check() does not see it yet, resolve() does.
    rows.push({ ...other });
    expect((await a.check("other", basicAuth("other", OTHER_SECRET))).result).toBe("unknown_app");
    expect((await a.resolve("other", basicAuth("other", OTHER_SECRET))).result).toBe("ok");
    expect((await a.check("other", basicAuth("other", OTHER_SECRET))).result).toBe("ok");
    expect(calls.findForAuth).toBe(1);
    // An unknown name: one query for a burst, then remembered for unknownTtlMs.
    await Promise.all(Array.from({ length: 10 }, () => a.resolve("ghost", undefined)));
    for (let i = 0; i < 10; i++) expect(await a.findByName("ghost")).toBeNull();
    expect(calls.findForAuth).toBe(2);
    clock.advance(5_001);
    expect(await a.findByName("ghost")).toBeNull();
    expect(calls.findForAuth).toBe(3);
    // forget(): the table is read again and unknown names are forgotten.
    a.forget();
    expect(await a.findByName("ghost")).toBeNull();
    expect(calls).toMatchObject({ listForAuth: 4, findForAuth: 4 });
    expect(await a.findByName("x".repeat(300))).toBeNull();
    expect(await a.findByName("")).toBeNull();
    expect(calls.findForAuth).toBe(4);
  });

  it("a rotated secret stops working once the table is read again, and the new one works", async () => {
    const { lookup, rows } = fakeApps([{ ...petcube }]);
    const a = auth(lookup);
    expect((await a.check("petcube", basicAuth("petcube", SECRET))).result).toBe("ok");
    rows[0].secretVerifier = a.verifierOf("petcube", "rotated-secret-0123456789");
    a.forget();
    expect((await a.check("petcube", basicAuth("petcube", SECRET))).result).toBe("wrong");
    expect((await a.check("petcube", basicAuth("petcube", "rotated-secret-0123456789"))).result).toBe("ok");
  });

  it("serves from the last read while the database is away (up to maxStaleMs), retrying at most every retryMs", async () => {
    const { lookup, calls } = fakeApps([{ ...petcube }]);
    const clock = new ManualClock();
    let down = false;
    const flaky: AppLookup = {
      ...lookup,
      listForAuth: () => (down ? Promise.reject(new Error("database away")) : lookup.listForAuth()),
    };
    const a = auth(flaky, { clock, appTtlMs: 5_000, maxStaleMs: 60_000, retryMs: 1_000 });
    expect((await a.check("petcube", basicAuth("petcube", SECRET))).result).toBe("ok");
    down = true;
    clock.advance(6_000);
    for (let i = 0; i < 50; i++) expect((await a.check("petcube", basicAuth("petcube", SECRET))).result).toBe("ok");
    expect(calls.listForAuth).toBe(1); // the failed attempt is not counted by the fake
    clock.advance(60_000);
    await expect(a.check("petcube", basicAuth("petcube", SECRET))).rejects.toThrow(/database away/);
    down = false;
    expect((await a.check("petcube", basicAuth("petcube", SECRET))).result).toBe("ok");
  });

  it("demo apps are unknown while demo mode is off", async () => {
    const { lookup } = fakeApps([
      { ...petcube, name: "demo", demo: true, secretVerifier: verifier.make("demo", SECRET) },
    ]);
    expect(await auth(lookup).findByName("demo")).toBeNull();
    expect(await auth(lookup).check("demo", basicAuth("demo", SECRET))).toEqual({ result: "unknown_app" });
    expect((await auth(lookup, { demo: true }).check("demo", basicAuth("demo", SECRET))).result).toBe("ok");
  });

  it("never holds the plaintext secret", async () => {
    const { lookup } = fakeApps([{ ...petcube, secretVerifier: null }]);
    const a = auth(lookup);
    const header = basicAuth("petcube", SECRET);
    const pending = a.verifySlow(petcube, header);
    const dump = () =>
      inspect(a, { depth: Infinity, showHidden: true, maxArrayLength: Infinity, maxStringLength: Infinity });
    const states = [dump()];
    expect(await pending).toBe(true);
    await a.check("petcube", header);
    states.push(dump());
    const secretBytes = Buffer.from(SECRET);
    expect(states[1]).toContain("secretVerifier"); // the dump does show what is held
    for (const d of states) {
      expect(d).not.toContain(SECRET);
      expect(d).not.toContain(header.slice("Basic ".length));
      expect(d).not.toContain(secretBytes.toString("hex"));
      expect(d).not.toContain(secretBytes.toString("base64"));
    }
  });

  it("keeps its failure cache bounded", () => {
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
