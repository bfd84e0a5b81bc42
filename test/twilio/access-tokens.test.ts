import { createHmac } from "node:crypto";
import { afterEach, describe, expect, it, vi } from "vitest";
import { loadConfig, type ResolvedConfig } from "../../src/config.js";
import { ManualClock, systemClock } from "../../src/lib/clock.js";
import { createAccessTokenIssuer } from "../../src/twilio/access-tokens.js";

const cfg: ResolvedConfig["twilio"] = {
  ...loadConfig({ NODE_ENV: "test" }).twilio,
  accountSid: "AC" + "a".repeat(32),
  apiKey: "SK" + "b".repeat(32),
  apiSecret: "test-api-secret-0123456789",
  chatServiceSid: "IS" + "c".repeat(32),
  pushCredentialSid: "CR" + "d".repeat(32),
  tokenTtlS: 1800,
};

const part = (s: string) => JSON.parse(Buffer.from(s, "base64url").toString("utf8"));

function decode(token: string) {
  const [h, p, sig] = token.split(".");
  return { header: part(h), payload: part(p), signingInput: `${h}.${p}`, sig: sig };
}

const T0 = Date.UTC(2026, 2, 3, 10, 20, 30, 456);

describe("access token issuer", () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it("mints a Twilio access token with a chat grant", () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(T0);
    const { token, expiresAt } = createAccessTokenIssuer(cfg, systemClock).mint({ identity: "local-app-1_user-2" });
    const { header, payload, signingInput, sig } = decode(token);

    expect(header).toEqual({ alg: "HS256", typ: "JWT", cty: "twilio-fpa;v=1" });
    expect(payload.iss).toBe(cfg.apiKey);
    expect(payload.sub).toBe(cfg.accountSid);
    expect(payload.jti).toBe(`${cfg.apiKey}-${Math.floor(T0 / 1000)}`);
    expect(payload.grants).toEqual({
      identity: "local-app-1_user-2",
      chat: { service_sid: cfg.chatServiceSid, push_credential_sid: cfg.pushCredentialSid },
    });
    expect(payload.iat).toBe(Math.floor(T0 / 1000));
    expect(payload.exp - payload.iat).toBe(cfg.tokenTtlS);
    expect(expiresAt).toBe(payload.exp * 1000);

    const expected = createHmac("sha256", cfg.apiSecret).update(signingInput).digest("base64url");
    expect(sig).toBe(expected);
    const wrong = createHmac("sha256", cfg.apiSecret + "x")
      .update(signingInput)
      .digest("base64url");
    expect(sig).not.toBe(wrong);
  });

  it("adds a video grant limited to the room when one is given", () => {
    const { token } = createAccessTokenIssuer(cfg, systemClock).mint({
      identity: "app-1_vet-7",
      room: "RM" + "e".repeat(32),
    });
    const { payload } = decode(token);
    expect(payload.grants.identity).toBe("app-1_vet-7");
    expect(payload.grants.video).toEqual({ room: "RM" + "e".repeat(32) });
    expect(payload.grants.chat.service_sid).toBe(cfg.chatServiceSid);
  });

  it("takes expiresAt from the injected clock, on whole seconds", () => {
    const clock = new ManualClock(T0);
    const issuer = createAccessTokenIssuer(cfg, clock);
    expect(issuer.mint({ identity: "u" }).expiresAt).toBe((Math.floor(T0 / 1000) + cfg.tokenTtlS) * 1000);
    clock.advance(60_000);
    expect(issuer.mint({ identity: "u" }).expiresAt).toBe((Math.floor(T0 / 1000) + 60 + cfg.tokenTtlS) * 1000);
  });

  it("refuses an empty identity or an empty room (which would grant every room)", () => {
    const issuer = createAccessTokenIssuer(cfg, systemClock);
    expect(() => issuer.mint({ identity: "" })).toThrow(RangeError);
    expect(() => issuer.mint({ identity: "u", room: "" })).toThrow(RangeError);
  });
});
