import { createHmac, createSecretKey, randomBytes, timingSafeEqual } from "node:crypto";
import pLimit, { type LimitFunction } from "p-limit";
import { systemClock, type Clock } from "../lib/clock.js";
import { AppError } from "../lib/envelope.js";
import type { AppRecord, AppRepository } from "../repositories/apps.js";
import { verifySecret } from "./passwords.js";

/**
 * Resolves the `{name}` of `/api/v2/{name}` and checks Basic credentials
 * (`base64("{app name or id}:{secret}")`) against that app.
 */
export interface AppAuthenticator {
  /**
   * The app when `name` is cached as known and `authorization` matches its cached verifier:
   * the free path, no database and no scrypt. Null means "ask {@link findByName}/{@link verify}".
   */
  authenticateCached(name: string, authorization: string | undefined): AppRecord | null;
  /** The app named `name`, or null. */
  findByName(name: string): Promise<AppRecord | null>;
  /** True when the header carries this app's own name-or-id and secret. */
  verify(app: AppRecord, authorization: string | undefined): Promise<boolean>;
  /**
   * Drops what this instance cached about `name` (e.g. right after the admin API created
   * it, so a cached "unknown" does not linger). Other nodes catch up within the lookup TTL.
   */
  forget(name: string): void;
}

/** What the authenticator needs from the app repository (an {@link AppRepository} fits). */
export type AppLookup = Pick<AppRepository, "findByName" | "findWithSecret">;

/** Cache tuning and test hooks for {@link createAppAuthenticator}; every field has a production default. */
export interface AppAuthOptions {
  /** Time source for cache expiry (default: the system clock). */
  clock?: Clock;
  /** How long a found `{name}` is reused. Default 5 s. */
  appTtlMs?: number;
  /** Most known names cached at once. Default 10,000. */
  appCacheSize?: number;
  /** How long an unknown `{name}` is remembered as unknown. Default 5 s. */
  unknownTtlMs?: number;
  /** Most unknown names remembered (a separate cache, so probes never evict real apps). Default 10,000. */
  unknownCacheSize?: number;
  /** scrypt checks running at once (each holds a libuv thread ≈50 ms). Default 2. */
  maxConcurrentScrypt?: number;
  /** scrypt checks allowed to wait for a slot; beyond → 503. Default 200. */
  maxQueuedScrypt?: number;
  /** How long a verified secret's HMAC is trusted without scrypt. Default 5 min. */
  verifierTtlMs?: number;
  /** Most apps with a cached verifier. Default 10,000. */
  verifierCacheSize?: number;
  /** How long a secret that failed scrypt is refused without another scrypt. Default 10 min. */
  rejectedTtlMs?: number;
  /** Most failed secrets remembered. Default 10,000. */
  rejectedCacheSize?: number;
  /** The slow, authoritative check (default: scrypt from `passwords.ts`). */
  verifySecret?: (secret: string, storedHash: string) => Promise<boolean>;
}

// Longer inputs are refused before any hashing: no legitimate name or secret is this long.
const MAX_HEADER_LENGTH = 2048;
const MAX_NAME_LENGTH = 255;

/**
 * A small map with per-entry expiry and a size bound. Eviction is oldest-inserted first,
 * which is enough here: entries are short-lived and re-inserted on refresh.
 */
export class TtlCache<K, V> {
  private readonly entries = new Map<K, { value: V; expiresAt: number }>();

  constructor(
    private readonly maxSize: number,
    private readonly clock: Clock,
  ) {}

  /** The live entry for `key`, or undefined (expired entries are dropped on read). */
  get(key: K): V | undefined {
    const e = this.entries.get(key);
    if (!e) return undefined;
    if (e.expiresAt <= this.clock.now()) {
      this.entries.delete(key);
      return undefined;
    }
    return e.value;
  }

  /** Stores `value` for `ttlMs`, evicting the oldest entries beyond the size bound. */
  set(key: K, value: V, ttlMs: number): void {
    this.entries.delete(key);
    while (this.entries.size >= this.maxSize) {
      const oldest = this.entries.keys().next();
      if (oldest.done) break;
      this.entries.delete(oldest.value);
    }
    this.entries.set(key, { value, expiresAt: this.clock.now() + ttlMs });
  }

  /** Removes `key` if present. */
  delete(key: K): void {
    this.entries.delete(key);
  }

  /** Entries held, expired ones not yet dropped included. */
  get size(): number {
    return this.entries.size;
  }
}

/** `{user, secret}` from a Basic header, or null when it is not well-formed Basic. */
export function parseBasic(authorization: string | undefined): { user: string; secret: string } | null {
  if (!authorization || authorization.length > MAX_HEADER_LENGTH) return null;
  const m = /^Basic[ \t]+([A-Za-z0-9+/=_-]+)[ \t]*$/i.exec(authorization);
  if (!m?.[1]) return null;
  const decoded = Buffer.from(m[1], "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  if (colon <= 0) return null;
  const secret = decoded.slice(colon + 1);
  if (secret.length === 0) return null;
  return { user: decoded.slice(0, colon), secret };
}

/**
 * The caching authenticator behind {@link createAppAuthenticator}.
 *
 * scrypt costs ~50 ms, far too much per request at the target load, so after one successful
 * scrypt check the app's verifier is cached: an HMAC-SHA256 of the presented secret under a
 * random key made per instance. Later requests compare HMACs in constant time. The plaintext
 * secret is never stored, and the HMAC is useless outside this process (the key never leaves
 * it). Concurrent first-time checks of the same credentials share one scrypt computation.
 */
class CachingAppAuthenticator implements AppAuthenticator {
  // A KeyObject: HMAC with a raw Buffer key re-imports the key on every call.
  private readonly hmacKey = createSecretKey(randomBytes(32));
  private readonly clock: Clock;
  private readonly appTtlMs: number;
  private readonly verifierTtlMs: number;
  private readonly slowVerify: (secret: string, storedHash: string) => Promise<boolean>;
  /** name → app, for names that exist. */
  private readonly appsByName: TtlCache<string, AppRecord>;
  /** Names that do not exist: probing them stays cheap and never evicts a real app. */
  private readonly unknownNames: TtlCache<string, true>;
  private readonly unknownTtlMs: number;
  /** Caps concurrent scrypt so a flood of wrong secrets cannot starve the libuv pool. */
  private readonly scryptSlots: LimitFunction;
  private readonly maxQueuedScrypt: number;
  private readonly appLookups = new Map<string, Promise<AppRecord | null>>();
  /** app id → HMAC of the last secret that passed scrypt for that app. */
  private readonly verifiers: TtlCache<number, Buffer>;
  /**
   * `appId:hmacHex` of secrets that failed scrypt → the stored hash they failed against. The
   * same secret against the same hash always fails, so a repeated wrong secret costs no
   * scrypt; once the app's secret changes the entry no longer matches and scrypt decides.
   */
  private readonly rejected: TtlCache<string, string>;
  private readonly rejectedTtlMs: number;
  /** `appId:hmacHex` → the scrypt check in flight for exactly those credentials. */
  private readonly inFlight = new Map<string, Promise<boolean>>();

  constructor(
    private readonly apps: AppLookup,
    opts: AppAuthOptions,
  ) {
    this.clock = opts.clock ?? systemClock;
    this.appTtlMs = opts.appTtlMs ?? 5_000;
    this.verifierTtlMs = opts.verifierTtlMs ?? 300_000;
    this.slowVerify = opts.verifySecret ?? verifySecret;
    this.appsByName = new TtlCache(opts.appCacheSize ?? 10_000, this.clock);
    this.unknownNames = new TtlCache(opts.unknownCacheSize ?? 10_000, this.clock);
    this.unknownTtlMs = opts.unknownTtlMs ?? 5_000;
    this.scryptSlots = pLimit(opts.maxConcurrentScrypt ?? 2);
    this.maxQueuedScrypt = opts.maxQueuedScrypt ?? 200;
    this.verifiers = new TtlCache(opts.verifierCacheSize ?? 10_000, this.clock);
    this.rejected = new TtlCache(opts.rejectedCacheSize ?? 10_000, this.clock);
    this.rejectedTtlMs = opts.rejectedTtlMs ?? 600_000;
  }

  authenticateCached(name: string, authorization: string | undefined): AppRecord | null {
    const app = this.appsByName.get(name);
    if (!app) return null;
    const creds = parseBasic(authorization);
    if (!creds || (creds.user !== app.name && creds.user !== String(app.id))) return null;
    const known = this.verifiers.get(app.id);
    return known && timingSafeEqual(known, this.mac(app.id, creds.secret)) ? app : null;
  }

  async findByName(name: string): Promise<AppRecord | null> {
    if (name.length === 0 || name.length > MAX_NAME_LENGTH) return null;
    const cached = this.appsByName.get(name);
    if (cached !== undefined) return cached;
    if (this.unknownNames.get(name)) return null;
    // One database query per name at a time, however many requests arrive together.
    const pending = this.appLookups.get(name);
    if (pending) return pending;
    const lookup: Promise<AppRecord | null> = this.apps
      .findByName(name)
      .then((app) => {
        // Not cached when forget() ran meanwhile: the answer may predate the change.
        if (this.appLookups.get(name) === lookup) {
          if (app) this.appsByName.set(name, app, this.appTtlMs);
          else this.unknownNames.set(name, true, this.unknownTtlMs);
        }
        return app;
      })
      .finally(() => {
        if (this.appLookups.get(name) === lookup) this.appLookups.delete(name);
      });
    this.appLookups.set(name, lookup);
    return lookup;
  }

  forget(name: string): void {
    this.appsByName.delete(name);
    this.unknownNames.delete(name);
    this.appLookups.delete(name);
  }

  async verify(app: AppRecord, authorization: string | undefined): Promise<boolean> {
    const creds = parseBasic(authorization);
    if (!creds) return false;
    // The user part names the app: only this app's own name or id is accepted, so another
    // app's valid credentials never open this app's routes.
    if (creds.user !== app.name && creds.user !== String(app.id)) return false;

    const mac = this.mac(app.id, creds.secret);
    const known = this.verifiers.get(app.id);
    if (known && timingSafeEqual(known, mac)) return true;

    // No verifier, or a different secret: the stored hash decides (it may have been
    // changed out of band). Identical concurrent attempts share one scrypt.
    const key = `${app.id}:${mac.toString("hex")}`;
    let pending = this.inFlight.get(key);
    if (!pending) {
      pending = this.checkSlow(app.id, creds.secret, mac, key).finally(() => this.inFlight.delete(key));
      this.inFlight.set(key, pending);
    }
    return pending;
  }

  private async checkSlow(appId: number, secret: string, mac: Buffer, key: string): Promise<boolean> {
    const row = await this.apps.findWithSecret(appId);
    if (!row) return false;
    if (this.rejected.get(key) === row.secretHash) return false;
    // Waiting work is bounded too: past it the caller gets 503 rather than an ever-longer wait.
    if (this.scryptSlots.pendingCount >= this.maxQueuedScrypt) {
      throw new AppError(503, "Service Unavailable", { "retry-after": "1" });
    }
    const ok = await this.scryptSlots(() => this.slowVerify(secret, row.secretHash));
    if (ok) this.verifiers.set(appId, mac, this.verifierTtlMs);
    else this.rejected.set(key, row.secretHash, this.rejectedTtlMs);
    return ok;
  }

  /** Bound to the app id so a verifier can never be replayed across apps. */
  private mac(appId: number, secret: string): Buffer {
    return createHmac("sha256", this.hmacKey).update(`${appId}\0`).update(secret, "utf8").digest();
  }
}

/**
 * Builds the app authenticator (see {@link CachingAppAuthenticator} for the caching rules).
 * Each instance has its own caches and HMAC key; nothing is shared between gateways.
 */
export function createAppAuthenticator(apps: AppLookup, opts: AppAuthOptions = {}): AppAuthenticator {
  return new CachingAppAuthenticator(apps, opts);
}
