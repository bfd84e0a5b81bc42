import { randomBytes, scrypt as scryptCb, timingSafeEqual, type ScryptOptions } from "node:crypto";
import pLimit from "p-limit";
import { AppError } from "./app-error.js";

// N=2^15, r=8, p=1: ~50 ms a hash here, the OWASP floor for scrypt.
const PARAMS = { N: 32768, r: 8, p: 1, keylen: 32 } as const;
const MAXMEM = 64 * 1024 * 1024;

function scrypt(secret: string, salt: Buffer, keylen: number, opts: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scryptCb(secret, salt, keylen, opts, (err, key) => (err ? reject(err) : resolve(key)));
  });
}

/** Hashes a password or app secret as `scrypt$N$r$p$salt$hash` (base64url parts). */
export async function hashSecret(secret: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await scrypt(secret, salt, PARAMS.keylen, { N: PARAMS.N, r: PARAMS.r, p: PARAMS.p, maxmem: MAXMEM });
  return ["scrypt", PARAMS.N, PARAMS.r, PARAMS.p, salt.toString("base64url"), key.toString("base64url")].join("$");
}

/** Constant-time check of `secret` against a {@link hashSecret} string; false for malformed hashes. */
export async function verifySecret(secret: string, stored: string): Promise<boolean> {
  const parts = stored.split("$");
  if (parts.length !== 6 || parts[0] !== "scrypt") return false;
  const [, n, r, p, saltB64, keyB64] = parts as [string, string, string, string, string, string];
  const expected = Buffer.from(keyB64, "base64url");
  const key = await scrypt(secret, Buffer.from(saltB64, "base64url"), expected.length, {
    N: Number(n),
    r: Number(r),
    p: Number(p),
    maxmem: MAXMEM,
  });
  return key.length === expected.length && timingSafeEqual(key, expected);
}

/**
 * One cap on scrypt work for the whole node: partner authentication and vet login share it,
 * so a flood of either cannot starve the libuv pool the other (and every file read) needs.
 */
export interface ScryptGate {
  /** Runs `verify` when a slot is free; past `maxQueued` waiting, 503 `Service Unavailable` at once. */
  run<T>(verify: () => Promise<T>): Promise<T>;
  /** Checks waiting for a slot now. */
  readonly pending: number;
}

/** A {@link ScryptGate}: `concurrency` checks at once (default 2, ≈50 ms each), `maxQueued` waiting (default 200). */
export function createScryptGate(opts: { concurrency?: number; maxQueued?: number } = {}): ScryptGate {
  const slots = pLimit(opts.concurrency ?? 2);
  const maxQueued = opts.maxQueued ?? 200;
  return {
    run(verify) {
      if (slots.pendingCount >= maxQueued)
        return Promise.reject(new AppError(503, "Service Unavailable", { "retry-after": "1" }));
      return slots(verify);
    },
    get pending() {
      return slots.pendingCount;
    },
  };
}
