/**
 * The vet console in Chromium through a PostgreSQL cut (PROTOCOL §6): its socket drops while
 * the database is away, every reconnect is refused `unavailable`, and the console keeps its
 * session (no sign-in screen) and reconnects by itself once the database is back. The console
 * reaches the gateway only through the client SDK, so this is the SDK's retry seen by a vet.
 */
import { chromium, type Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { seedVet } from "../support/actors.js";
import { startGatewayBehindDbProxy, type GatewayBehindProxy } from "../support/gateway.js";
import { buildPages } from "./build-pages.js";

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
/** Polls wait on a browser and a gateway sharing two busy cores. */
const SLOW = { timeout: 10_000 };
/** The SDK waits at least the gateway's `retry_after_s` (5 s) plus jitter between refused attempts. */
const RECONNECT = { timeout: 25_000 };

let env: GatewayBehindProxy;
let browser: Browser;

beforeAll(async () => {
  await buildPages();
  env = await startGatewayBehindDbProxy("consolecut", { DATABASE_TIMEOUT_MS: "1000" });
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox", "--disable-dev-shm-usage"] });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await env?.close();
});

describe("vet console through a database cut", () => {
  it(
    "stays signed in while reconnects are refused 'unavailable', and reconnects by itself once the database is back",
    { timeout: 90_000 },
    async () => {
      const { gw, url, proxy } = env;
      const vet = await seedVet(gw);
      const unavailable = async () =>
        (await gw.ctx.metrics.socketHandshakes.get()).values
          .filter((v) => v.labels.result === "unavailable")
          .reduce((n, v) => n + v.value, 0);

      const ctx = await browser.newContext({ viewport: { width: 1280, height: 820 } });
      const page = await ctx.newPage();
      await page.goto(`${url}/console/`);
      await page.getByTestId("login-email").fill(vet.email);
      await page.getByTestId("login-password").fill("password-123");
      await page.getByTestId("login-submit").click();
      const conn = page.locator("#conn");
      await expect.poll(() => conn.textContent(), SLOW).toBe("Connected");

      const before = await unavailable();
      proxy.cut("refuse");
      try {
        // A network blip under the console's socket: Socket.IO reconnects, the gateway cannot check the token.
        for (const s of gw.sockets.io.of("/vet").sockets.values()) s.conn.close();
        await expect.poll(() => conn.textContent(), SLOW).toBe("Reconnecting…");
        await expect.poll(unavailable, SLOW).toBeGreaterThan(before);
        expect(await page.locator("#login-view").isHidden()).toBe(true);
      } finally {
        proxy.restore();
      }
      await expect.poll(() => conn.textContent(), RECONNECT).toBe("Connected");
      expect(await page.locator("#login-view").isHidden()).toBe(true);
      expect(await page.evaluate('sessionStorage.getItem("vet-console.session")')).not.toBeNull();
      await ctx.close();
    },
  );
});
