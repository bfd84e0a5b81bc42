/**
 * Twilio access-token minting throughput: `npx tsx bench/tokens.ts [seconds]`.
 * (a) the gateway's issuer (secret as a KeyObject made once), (b) AccessToken with a string
 * secret, which makes jsonwebtoken re-import the key on every sign. Single-threaded.
 */
import { randomBytes } from "node:crypto";
import twilio from "twilio";
import { DEV_TWILIO, loadConfig } from "../src/config.js";
import { systemClock } from "../src/lib/clock.js";
import { createAccessTokenIssuer } from "../src/twilio/access-tokens.js";

const seconds = Number(process.argv[2] ?? 2);
// A bench-only signing key: these tokens go nowhere.
const cfg = { ...loadConfig({ NODE_ENV: "development" }).twilio, apiSecret: randomBytes(32).toString("base64url") };
const { AccessToken } = twilio.jwt;
const identities = Array.from({ length: 64 }, (_, i) => `local-app-1_user-${i + 1}`);

/** Calls `mint` in batches for `ms` milliseconds and returns tokens per second. */
function measure(mint: (identity: string) => string, ms: number): number {
  let n = 0;
  let sink = 0; // keeps the result observable so the work cannot be optimised away
  const start = performance.now();
  const end = start + ms;
  while (performance.now() < end) {
    for (let i = 0; i < 200; i++) sink += mint(identities[(n + i) & 63]).length;
    n += 200;
  }
  const elapsed = performance.now() - start;
  if (sink === 0) throw new Error("unreachable");
  return Math.round((n * 1000) / elapsed);
}

const issuer = createAccessTokenIssuer(cfg, systemClock);
const cases: [string, (identity: string) => string][] = [
  ["(a) issuer, KeyObject secret", (identity) => issuer.mint({ identity }).token],
  ["(a) issuer, with video grant", (identity) => issuer.mint({ identity, room: "RM0123" }).token],
  [
    "(b) AccessToken, string secret",
    (identity) => {
      const t = new AccessToken(DEV_TWILIO.accountSid, DEV_TWILIO.apiKey, cfg.apiSecret, {
        identity,
        ttl: cfg.tokenTtlS,
      });
      t.addGrant(
        new AccessToken.ChatGrant({ serviceSid: cfg.chatServiceSid, pushCredentialSid: cfg.pushCredentialSid }),
      );
      return t.toJwt();
    },
  ],
];

console.log(`node ${process.version}, ${seconds} s per case`);
for (const [name, mint] of cases) {
  measure(mint, 200); // warm-up: JIT and key import
  console.log(
    `${name.padEnd(34)} ${measure(mint, seconds * 1000)
      .toLocaleString("en-US")
      .padStart(9)} tokens/s`,
  );
}
