import { createHmac, createSecretKey, randomBytes } from "node:crypto";
import { systemClock, type Clock } from "../lib/clock.js";
import type { Logger } from "../lib/logger.js";
import { createScryptGate, verifySecret, type ScryptGate } from "../lib/passwords.js";
import type { AppAuthRecord, AppRecord, AppRepository } from "../repositories/apps.js";
import { AppSecretVerifier } from "./app-secret-verifier.js";

/**
 * What a request's Basic credentials are for the app in its path, decided without scrypt:
 * `ok`; `unknown_app` (no such `{name}`, as far as the caller looked); `wrong` (the app's
 * verifier says no, or the header names another app or is malformed); `needs_scrypt` (the
 * app has no current verifier: only the scrypt hash can tell, see
 * {@link AppAuthenticator.verifySlow}).
 */
export type AuthCheck =
  | { result: "ok"; app: AppRecord }
  | { result: "unknown_app" }
  | { result: "wrong"; app: AppRecord }
  | { result: "needs_scrypt"; app: AppRecord };

/**
 * Resolves the `{name}` of `/api/v2/{name}` and checks Basic credentials
 * (`base64("{app name or id}:{secret}")`) against that app.
 *
 * The apps table is held whole in memory (one row per partner) and read again at most every
 * `appTtlMs`, by one query however many requests arrive: a partner's `{name}` costs no
 * query per request. Credentials are checked against the app's stored keyed verifier
 * (`app-secret-verifier.ts`): one HMAC, on every node and after every restart. Only an app
 * without a current verifier needs scrypt, once. A name missing from the held copy (an app
 * created a moment ago on another node, or a probe) is looked up by itself only through
 * {@link resolve}, which the REST pipeline calls after counting the request per address.
 */
export interface AppAuthenticator {
  /** The app named `name`, or null (also a demo app while demo mode is off); a name missing from the held copy is looked up. */
  findByName(name: string): Promise<AppRecord | null>;
  /** The credentials' verdict from the held copy of the apps table alone (no per-name query, no scrypt). */
  check(name: string, authorization: string | undefined): Promise<AuthCheck>;
  /** {@link check}, but a name missing from the held copy is looked up (one query per name, unknown names remembered `unknownTtlMs`). */
  resolve(name: string, authorization: string | undefined): Promise<AuthCheck>;
  /**
   * The scrypt check of a `needs_scrypt` verdict, under the node's scrypt cap (503 when it is
   * full). On success the app's verifier is stored, so this app never needs scrypt again.
   */
  verifySlow(app: AppRecord, authorization: string | undefined): Promise<boolean>;
  /** The verifier of a secret just set for the app `name` (admin API, CLI). */
  verifierOf(name: string, secret: string): string;
  /** This node's copy of the apps table is stale now (an app was created or changed here). */
  forget(): void;
}

/** What the authenticator needs from the app repository (an {@link AppRepository} fits). */
export type AppLookup = Pick<AppRepository, "listForAuth" | "findForAuth" | "findWithSecret" | "storeVerifier">;

/** Settings and test hooks for {@link createAppAuthenticator}; every field but the secret has a default. */
export interface AppAuthOptions {
  /** `GATEWAY_SECRET`: keys the stored verifiers. */
  gatewaySecret: string;
  /** Demo mode on: demo apps are served; off: they are unknown (PROTOCOL §7). */
  demo?: boolean;
  /** Time source for cache expiry (default: the system clock). */
  clock?: Clock;
  logger?: Logger;
  /** How long a read of the apps table is used. Default 5 s. */
  appTtlMs?: number;
  /** How long a name looked up and not found is remembered as unknown. Default 5 s. */
  unknownTtlMs?: number;
  /** Most unknown names remembered. Default 10,000. */
  unknownCacheSize?: number;
  /** While the database cannot be read, the last read is used up to this age. Default 60 s. */
  maxStaleMs?: number;
  /** After a failed read, the next is tried no sooner than this. Default 1 s. */
  retryMs?: number;
  /** The node's scrypt cap, shared with vet login (default: 2 at once, 200 waiting). */
  scrypt?: ScryptGate;
  /** How long a secret that failed scrypt is refused without another scrypt. Default 10 min. */
  rejectedTtlMs?: number;
  /** Most failed secrets remembered. Default 10,000. */
  rejectedCacheSize?: number;
  /** The slow, authoritative check (default: scrypt from `lib/passwords.ts`). */
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

  /** Removes every entry. */
  clear(): void {
    this.entries.clear();
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

/** One read of the apps table. */
interface AppsRead {
  byName: Map<string, AppAuthRecord>;
  readAt: number;
}

const publicOf = (a: AppAuthRecord): AppRecord => ({ id: a.id, name: a.name, mediaUrl: a.mediaUrl });

/** The authenticator behind {@link createAppAuthenticator}. */
class VerifyingAppAuthenticator implements AppAuthenticator {
  private readonly verifier: AppSecretVerifier;
  private readonly clock: Clock;
  private readonly appTtlMs: number;
  private readonly maxStaleMs: number;
  private readonly retryMs: number;
  private readonly demo: boolean;
  private readonly scrypt: ScryptGate;
  private readonly slowVerify: (secret: string, storedHash: string) => Promise<boolean>;
  private current: AppsRead | null = null;
  private reading: Promise<AppsRead> | null = null;
  private failedAt = -Infinity;
  // Keys the remembered failures only; never leaves this process.
  private readonly hmacKey = createSecretKey(randomBytes(32));
  /**
   * `appId:hmacHex` of secrets that failed scrypt → the stored hash they failed against. The
   * same secret against the same hash always fails, so a repeated wrong secret costs no
   * scrypt; once the app's secret changes the entry no longer matches and scrypt decides.
   */
  private readonly rejected: TtlCache<string, string>;
  private readonly rejectedTtlMs: number;
  /** Names looked up and not found: probing them again costs nothing for a while. */
  private readonly unknownNames: TtlCache<string, true>;
  private readonly unknownTtlMs: number;
  /** name → its lookup in flight: a burst naming one app costs one query. */
  private readonly nameLookups = new Map<string, Promise<AppAuthRecord | null>>();
  /** `appId:hmacHex` → the scrypt check in flight for exactly those credentials. */
  private readonly inFlight = new Map<string, Promise<boolean>>();

  constructor(
    private readonly apps: AppLookup,
    private readonly opts: AppAuthOptions,
  ) {
    this.verifier = new AppSecretVerifier(opts.gatewaySecret);
    this.clock = opts.clock ?? systemClock;
    this.appTtlMs = opts.appTtlMs ?? 5_000;
    this.maxStaleMs = opts.maxStaleMs ?? 60_000;
    this.retryMs = opts.retryMs ?? 1_000;
    this.demo = opts.demo ?? false;
    this.scrypt = opts.scrypt ?? createScryptGate();
    this.slowVerify = opts.verifySecret ?? verifySecret;
    this.rejected = new TtlCache(opts.rejectedCacheSize ?? 10_000, this.clock);
    this.rejectedTtlMs = opts.rejectedTtlMs ?? 600_000;
    this.unknownNames = new TtlCache(opts.unknownCacheSize ?? 10_000, this.clock);
    this.unknownTtlMs = opts.unknownTtlMs ?? 5_000;
  }

  async findByName(name: string): Promise<AppRecord | null> {
    const app = await this.lookup(name, true);
    return app ? publicOf(app) : null;
  }

  check(name: string, authorization: string | undefined): Promise<AuthCheck> {
    return this.verdict(name, authorization, false);
  }

  resolve(name: string, authorization: string | undefined): Promise<AuthCheck> {
    return this.verdict(name, authorization, true);
  }

  private async verdict(name: string, authorization: string | undefined, lookUpMissing: boolean): Promise<AuthCheck> {
    const app = await this.lookup(name, lookUpMissing);
    if (!app) return { result: "unknown_app" };
    const creds = parseBasic(authorization);
    // The user part names the app: only this app's own name or id is accepted, so another
    // app's valid credentials never open this app's routes.
    if (!creds || (creds.user !== app.name && creds.user !== String(app.id)))
      return { result: "wrong", app: publicOf(app) };
    if (!this.verifier.isCurrent(app.secretVerifier)) return { result: "needs_scrypt", app: publicOf(app) };
    return this.verifier.matches(app.secretVerifier, app.name, creds.secret)
      ? { result: "ok", app: publicOf(app) }
      : { result: "wrong", app: publicOf(app) };
  }

  async verifySlow(app: AppRecord, authorization: string | undefined): Promise<boolean> {
    const creds = parseBasic(authorization);
    if (!creds || (creds.user !== app.name && creds.user !== String(app.id))) return false;
    const key = `${app.id}:${createHmac("sha256", this.hmacKey).update(`${app.id}\0`).update(creds.secret, "utf8").digest("hex")}`;
    // Identical concurrent attempts share one scrypt.
    let pending = this.inFlight.get(key);
    if (!pending) {
      pending = this.checkSlow(app, creds.secret, key).finally(() => this.inFlight.delete(key));
      this.inFlight.set(key, pending);
    }
    return pending;
  }

  verifierOf(name: string, secret: string): string {
    return this.verifier.make(name, secret);
  }

  forget(): void {
    if (this.current) this.current.readAt = -Infinity;
    this.unknownNames.clear();
  }

  private async checkSlow(app: AppRecord, secret: string, key: string): Promise<boolean> {
    const row = await this.apps.findWithSecret(app.id);
    if (!row) return false;
    if (this.rejected.get(key) === row.secretHash) return false;
    const ok = await this.scrypt.run(() => this.slowVerify(secret, row.secretHash));
    if (!ok) {
      this.rejected.set(key, row.secretHash, this.rejectedTtlMs);
      return false;
    }
    const verifier = this.verifier.make(row.name, secret);
    await this.apps.storeVerifier(row.id, row.secretHash, verifier);
    const held = this.current?.byName.get(row.name);
    if (held?.id === row.id) held.secretVerifier = verifier;
    return true;
  }

  private async lookup(name: string, lookUpMissing: boolean): Promise<AppAuthRecord | null> {
    if (name.length === 0 || name.length > MAX_NAME_LENGTH) return null;
    const read = await this.read();
    const app = read.byName.get(name) ?? (lookUpMissing ? await this.lookupOne(name, read) : undefined);
    return app && (!app.demo || this.demo) ? app : null;
  }

  /** One name missing from the held copy, from the database (one query per name at a time). */
  private lookupOne(name: string, read: AppsRead): Promise<AppAuthRecord | null> {
    if (this.unknownNames.get(name)) return Promise.resolve(null);
    const pending = this.nameLookups.get(name);
    if (pending) return pending;
    const lookup = this.apps
      .findForAuth(name)
      .then((app) => {
        if (app) read.byName.set(name, app);
        else this.unknownNames.set(name, true, this.unknownTtlMs);
        return app;
      })
      .finally(() => this.nameLookups.delete(name));
    this.nameLookups.set(name, lookup);
    return lookup;
  }

  /** The apps table, read again when older than `appTtlMs` (one read at a time). */
  private async read(): Promise<AppsRead> {
    const now = this.clock.now();
    const held = this.current;
    if (held && now - held.readAt < this.appTtlMs) return held;
    // The database just failed: the last read serves a while rather than every request retrying.
    if (held && now - this.failedAt < this.retryMs && now - held.readAt < this.maxStaleMs) return held;
    this.reading ??= this.apps
      .listForAuth()
      .then((rows) => {
        const read: AppsRead = { byName: new Map(rows.map((r) => [r.name, r])), readAt: this.clock.now() };
        this.current = read;
        return read;
      })
      .finally(() => (this.reading = null));
    try {
      return await this.reading;
    } catch (err) {
      this.failedAt = this.clock.now();
      if (held && this.clock.now() - held.readAt < this.maxStaleMs) {
        this.opts.logger?.warn({ err }, "apps table unreadable: authenticating from the last read");
        return held;
      }
      throw err;
    }
  }
}

/**
 * Builds the app authenticator (see {@link AppAuthenticator} for how it checks and caches).
 * Each instance has its own copy of the apps table; nothing is shared between gateways.
 */
export function createAppAuthenticator(apps: AppLookup, opts: AppAuthOptions): AppAuthenticator {
  return new VerifyingAppAuthenticator(apps, opts);
}
