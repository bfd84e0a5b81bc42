/**
 * The REST tarpit over real HTTP (PROTOCOL §7): an address refused over
 * `RATE_LIMIT_UNAUTH_PER_MIN` that keeps sending gets its first refusals at once, then its
 * 429s only after `RATE_LIMIT_TARPIT_MS`; at most `RATE_LIMIT_TARPIT_MAX` are held, the
 * rest answered at once; other addresses are served meanwhile; shutdown answers the held.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { FAST_REFUSALS } from "../../../src/http/rate-limit.js";
import { basicAuth, request, startTestGateway, type TestGateway, TEST_ADMIN_TOKEN } from "../../support/gateway.js";

const PARTNER_SECRET = "partner-secret-0123456789";
const from = (ip: string) => ({ "x-forwarded-for": ip });
const TOO_MANY = { success: false, status_code: 429, message: ["Too Many Requests"], data: [] };

/** A request whose settling the test can observe without awaiting it. */
function pending(url: string, ip: string, signal?: AbortSignal) {
  const p = { settled: false, result: fetch(`${url}/api/v2/partner/media-url`, { headers: from(ip), signal }) };
  p.result.then(
    () => (p.settled = true),
    () => (p.settled = true),
  );
  return p;
}

describe("tarpit on a gateway (60 s delay: a held request is answered only by shutdown here)", () => {
  let gw: TestGateway;
  let closed = false;
  beforeAll(async () => {
    gw = await startTestGateway({
      redis: true,
      env: {
        TRUST_PROXY: "1",
        RATE_LIMIT_UNAUTH_PER_MIN: "2",
        RATE_LIMIT_TARPIT_MS: "60000",
        RATE_LIMIT_TARPIT_MAX: "3",
      },
    });
    await gw.gateway.ctx.repos.apps.create({ name: "partner", secret: PARTNER_SECRET });
  });
  afterAll(async () => {
    if (!closed) await gw?.close();
  });

  it("answers the first refusals at once, holds the next up to the bound, answers beyond it at once, and serves others", async () => {
    const tarpit = gw.gateway.ctx.tarpit;
    const media = (ip: string) => request(gw.url, "GET", "/api/v2/partner/media-url", { headers: from(ip) });
    const attacker = "203.0.113.9";
    expect([(await media(attacker)).status, (await media(attacker)).status]).toEqual([200, 200]);
    // An address that overshoots a little: its first refusals come at once (a held one would
    // wait 60 s, past this test's timeout).
    for (let i = 0; i < FAST_REFUSALS; i++) {
      const r = await media(attacker);
      expect(r.status).toBe(429);
      expect(r.body).toEqual(TOO_MANY);
      expect(tarpit.held).toBe(0);
    }

    // It keeps sending: three requests are held, unanswered.
    const abort = new AbortController();
    const held = [pending(gw.url, attacker, abort.signal), pending(gw.url, attacker), pending(gw.url, attacker)];
    await vi.waitFor(() => expect(tarpit.held).toBe(3));
    const metrics = async () =>
      (await fetch(`${gw.url}/metrics`, { headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` } })).text();
    expect(await metrics()).toMatch(/^http_tarpit_held 3$/m);

    // Over the bound: answered at once, while the three are still held.
    for (let i = 0; i < 2; i++) {
      const r = await media(attacker);
      expect(r.status).toBe(429);
      expect(r.body).toEqual(TOO_MANY);
    }
    expect(await metrics()).toMatch(/^http_tarpit_full_total 2$/m);

    // Other addresses are served at once meanwhile: a new one, and the partner's own calls.
    expect((await media("198.51.100.20")).status).toBe(200);
    const partner = await request(gw.url, "POST", "/api/v2/partner/socket-token", {
      body: {},
      headers: { authorization: basicAuth("partner", PARTNER_SECRET), ...from("198.51.100.7") },
    });
    expect(partner.status).toBe(422);
    expect(held.map((p) => p.settled)).toEqual([false, false, false]);
    expect(tarpit.held).toBe(3);

    // A held client that leaves frees its slot, which the next refusal takes.
    abort.abort();
    await vi.waitFor(() => expect(tarpit.held).toBe(2));
    const refill = pending(gw.url, attacker);
    await vi.waitFor(() => expect(tarpit.held).toBe(3));

    // Shutdown answers the held requests with the limiter's 429 instead of leaving them hanging.
    const stillHeld = [held[1], held[2], refill];
    expect(stillHeld.map((p) => p.settled)).toEqual([false, false, false]);
    closed = true;
    await gw.close();
    expect(tarpit.held).toBe(0);
    for (const p of stillHeld) {
      const res = await p.result;
      expect(res.status).toBe(429);
      expect(await res.json()).toEqual(TOO_MANY);
      expect(res.headers.get("retry-after")).toBe("60");
      expect(res.headers.get("x-ratelimit-limit")).toBe("2");
      expect(res.headers.get("x-ratelimit-remaining")).toBe("0");
    }
    await expect(held[0].result).rejects.toThrow();
  });
});

describe("tarpit with a short delay", () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway({ db: "pglite", env: { RATE_LIMIT_UNAUTH_PER_MIN: "1", RATE_LIMIT_TARPIT_MS: "300" } });
    await gw.gateway.ctx.repos.apps.create({ name: "partner", secret: PARTNER_SECRET });
  });
  afterAll(async () => {
    await gw?.close();
  });

  it("answers a held refusal by itself once the delay has passed, with the limiter's headers", async () => {
    const media = () => request(gw.url, "GET", "/api/v2/partner/media-url");
    expect((await media()).status).toBe(200);
    for (let i = 0; i < FAST_REFUSALS; i++) expect((await media()).status).toBe(429);
    const started = performance.now();
    const p = media();
    await vi.waitFor(() => expect(gw.gateway.ctx.tarpit.held).toBe(1));
    const r = await p;
    // A coarse lower bound only: the answer waited for the delay (timers may fire a little early).
    expect(performance.now() - started).toBeGreaterThanOrEqual(250);
    expect(r.status).toBe(429);
    expect(r.body).toEqual(TOO_MANY);
    expect(r.headers.get("x-ratelimit-remaining")).toBe("0");
    expect(Number(r.headers.get("x-ratelimit-reset"))).toBeGreaterThan(Date.now() / 1000);
    expect(gw.gateway.ctx.tarpit.held).toBe(0);
  });
});
