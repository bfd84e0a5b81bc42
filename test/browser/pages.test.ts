/**
 * The pages in a real browser: Debian's Chromium driven by playwright-core against a real
 * gateway in demo mode (PGlite). One scenario: the vet console, the owner demo and the
 * operator dashboard through a chat and a video consultation. Every request a page makes
 * must stay on the gateway's origin and no page may log an error. Screenshots of each step
 * go to test-results/screenshots/ (git-ignored).
 */
import { mkdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";
import { PAGE_BUDGETS } from "../../vite.config.js";
import { request, startTestGateway, TEST_ADMIN_TOKEN, type TestGateway } from "../support/gateway.js";
import { buildPages } from "./build-pages.js";
import { axeViolations } from "./axe.js";

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const SHOTS = path.resolve("test-results/screenshots");
const VET = { email: "vet1@demo.test", password: "demo-vet-1" };
/** Polls wait on a browser and a gateway sharing two busy cores. */
const SLOW = { timeout: 10_000 };

let gw: TestGateway;
let browser: Browser;
const problems: string[] = [];
const requested: string[] = [];

/** A fresh browser context whose pages report errors and record every request URL. */
async function openPage(): Promise<{ ctx: BrowserContext; page: Page }> {
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 820 } });
  const page = await ctx.newPage();
  page.on("console", (m) => {
    if (m.type() === "error") problems.push(`console error on ${page.url()}: ${m.text()}`);
  });
  page.on("pageerror", (e) => problems.push(`page error on ${page.url()}: ${e.message}`));
  page.on("request", (r) => requested.push(r.url()));
  page.on("websocket", (ws) => requested.push(ws.url()));
  return { ctx, page };
}

const shot = (page: Page, name: string) => page.screenshot({ path: path.join(SHOTS, `${name}.png`) });

/** Every state photographed must also pass axe-core's WCAG 2 A/AA rules. */
async function shotAccessible(page: Page, name: string): Promise<void> {
  expect(await axeViolations(page), name).toEqual([]);
  await shot(page, name);
}

beforeAll(async () => {
  // The pages are served from dist/public: build them as `npm run build` does.
  await buildPages();
  mkdirSync(SHOTS, { recursive: true });
  gw = await startTestGateway({ db: "pglite", env: { DEMO: "1", OFFER_TIMEOUT_MS: "30000", WRAPUP_MS: "60000" } });
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox", "--disable-dev-shm-usage"] });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await gw?.close();
});

describe("browser pages", () => {
  it("builds every page within its JavaScript budget", () => {
    for (const [name, budget] of Object.entries(PAGE_BUDGETS)) {
      const html = readFileSync(path.resolve(`dist/public/${name}/index.html`), "utf8");
      // The entry script and its modulepreloads are the JavaScript a page loads before any lazy import.
      const files = [...html.matchAll(/(?:src|href)="(\/assets\/[^"]+\.js)"/g)].map((m) => m[1]);
      expect(files.length).toBeGreaterThan(0);
      const bytes = files.reduce((n, f) => n + statSync(path.resolve(`dist/public${f}`)).size, 0);
      expect(bytes, `${name}: ${bytes} bytes`).toBeLessThanOrEqual(budget);
    }
  });

  it("serves / as a redirect to the console", async () => {
    const res = await fetch(`${gw.url}/`, { redirect: "manual" });
    expect(res.status).toBe(302);
    expect(res.headers.get("location")).toBe("/console/");
  });

  it("runs a chat and a video consultation across the console, the demo and the dashboard", async () => {
    const login = await request(gw.url, "POST", "/vet/v1/login", { body: VET });
    expect(login.status).toBe(200);
    const vetFirstName: string = login.body.data.vet.first_name;

    const { page: vet } = await openPage();
    const { page: owner } = await openPage();

    // The vet logs in and goes available.
    await vet.goto(`${gw.url}/console/`);
    await vet.getByTestId("login-email").waitFor();
    // The sign-in form opens with the cursor in the email field.
    expect(await vet.evaluate("document.activeElement?.dataset.testid")).toBe("login-email");
    await shotAccessible(vet, "00-console-login");
    await vet.getByTestId("login-email").fill(VET.email);
    await vet.getByTestId("login-password").fill(VET.password);
    await vet.getByTestId("login-submit").click();
    const availability = vet.getByTestId("availability");
    await expect.poll(() => availability.getAttribute("value"), SLOW).toBe("away");
    await availability.click();
    await expect.poll(() => availability.getAttribute("value"), SLOW).toBe("available");
    await expect.poll(() => vet.getByTestId("queue-length").textContent(), SLOW).toMatch(/0 waiting/);
    // The vet's own skills, from the login answer (demo vet 1: dogs and cats, English and Spanish, 2 chats).
    expect(await vet.getByTestId("vet-species").textContent()).toBe("Dog, Cat");
    expect(await vet.getByTestId("vet-languages").textContent()).toBe("English, Spanish");
    expect(await vet.getByTestId("vet-max-chats").textContent()).toBe("2 chats");
    expect(await vet.getByTestId("vet-skills").isVisible()).toBe(true);
    await shotAccessible(vet, "01-console-available");

    // The owner requests a chat (no language, no emergency: neither badge shows).
    await owner.goto(`${gw.url}/demo/`);
    await expect.poll(() => owner.getByTestId("owner-select").locator("option").count(), SLOW).toBeGreaterThan(0);
    await expect.poll(() => owner.getByTestId("pet-select").locator("option").count(), SLOW).toBeGreaterThan(0);
    await expect.poll(() => owner.locator(".conn").textContent(), SLOW).toContain("Connected");
    await owner.getByTestId("request-chat").click();

    // The vet sees the offer with a moving countdown, and accepts.
    const offer = vet.getByTestId("offer");
    await offer.waitFor();
    const id = await offer.getAttribute("data-consultation-id");
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect(await offer.getByTestId("offer-emergency").count()).toBe(0);
    expect(await offer.getByTestId("offer-language").count()).toBe(0);
    const first = await offer.getByTestId("offer-countdown").textContent();
    await expect.poll(() => offer.getByTestId("offer-countdown").textContent(), SLOW).not.toBe(first);
    await shotAccessible(vet, "02-console-offer");
    await shotAccessible(owner, "03-demo-waiting");
    await offer.getByTestId("offer-accept").click();

    // Both see the match.
    const consultation = vet.getByTestId("consultation");
    await consultation.waitFor();
    expect(await consultation.getAttribute("data-consultation-id")).toBe(id);
    // Offline mode says plainly that video is simulated and that the gateway carries the chat
    // itself (PROTOCOL §10): the consultation has a real chat, not a "simulated" notice.
    expect(await vet.locator("#mode").textContent()).toBe("Simulated video");
    expect(await vet.locator("#mode").isVisible()).toBe(true);
    expect(await vet.locator("#mode-note").textContent()).toContain("joins no Twilio Conversation or room");
    expect(await consultation.textContent()).not.toMatch(/simulated/i);
    expect(await consultation.getByTestId("chat-input").isVisible()).toBe(true);
    await expect.poll(() => owner.getByTestId("matched").textContent(), SLOW).toContain(vetFirstName);
    await shotAccessible(vet, "04-console-active-chat");
    await shotAccessible(owner, "05-demo-matched");

    // The console reloads mid-consultation and resumes it from the server (vet consult:state).
    await vet.reload();
    const resumed = vet.getByTestId("consultation");
    await resumed.waitFor();
    expect(await resumed.getAttribute("data-consultation-id")).toBe(id);
    await shot(vet, "04b-console-resumed");

    // The owner ends; the vet sends feedback during wrap-up; the owner sees it.
    await owner.getByTestId("owner-end").click();
    await vet.getByTestId("feedback-recommendation").waitFor();
    await expect.poll(() => vet.getByTestId("consultation").count(), SLOW).toBe(0);
    await vet.getByTestId("feedback-recommendation").fill("Small meals and fresh water for two days.");
    await vet.getByTestId("feedback-reason").fill("Mild stomach upset after a diet change.");
    await vet.getByTestId("feedback-outcome").selectOption("follow_up");
    await shotAccessible(vet, "06-console-wrapup");
    await vet.getByTestId("feedback-submit").click();
    await expect.poll(() => vet.locator(".wrapup").textContent(), SLOW).toContain("Feedback sent");
    const received = owner.getByTestId("feedback-received");
    await expect.poll(() => received.textContent(), SLOW).toContain("Small meals and fresh water for two days.");
    expect(await received.textContent()).toContain("Mild stomach upset after a diet change.");
    await shotAccessible(owner, "07-demo-feedback");

    // A video consultation rings the owner; the answer reaches the vet.
    await owner.getByTestId("request-video").click();
    const videoOffer = vet.locator(`[data-testid=offer]:not([data-consultation-id="${id}"])`);
    await videoOffer.waitFor();
    await videoOffer.getByTestId("offer-accept").click();
    await vet.getByTestId("call-start").click();
    const incoming = owner.getByTestId("call-incoming");
    await incoming.waitFor();
    await shotAccessible(owner, "08-demo-call-incoming");
    await incoming.getByRole("button", { name: "Answer" }).click();
    await expect.poll(() => vet.locator(".call-status").textContent(), SLOW).toContain("answered");
    await shotAccessible(vet, "09-console-video");

    // The dashboard shows counts and charts.
    const { page: ops } = await openPage();
    await ops.goto(`${gw.url}/ops/`);
    await ops.getByTestId("admin-token").fill(TEST_ADMIN_TOKEN);
    await ops.getByTestId("admin-submit").click();
    await expect.poll(() => ops.getByTestId("stat-queue-length").textContent(), SLOW).toBe("0");
    await expect.poll(() => ops.getByTestId("stat-vets-available").textContent(), SLOW).toMatch(/^\d+$/);
    await ops.getByTestId("chart-queue").locator("canvas").waitFor();
    await ops.getByTestId("chart-vets").locator("canvas").waitFor();
    // The last 30 days from the database: the chat consultation just ended is counted.
    await expect.poll(() => ops.getByTestId("summary-requests").textContent(), SLOW).toMatch(/^[1-9]\d*$/);
    // The wrap-up's outcome above is counted (PROTOCOL §10).
    await expect.poll(() => ops.getByTestId("summary-outcomes").textContent(), SLOW).toContain("follow up 1");
    await ops.getByTestId("chart-days").locator("canvas").waitFor();
    await ops.getByTestId("summary-vet").first().waitFor();
    await ops.getByTestId("webhook-app").first().waitFor();
    // An operator gives the app a webhook URL: the signing secret is shown once.
    await ops.getByTestId("webhook-app").first().getByTestId("webhook-edit").click();
    await ops.getByTestId("webhook-url").fill("http://127.0.0.1:9/hooks");
    await ops.getByRole("button", { name: "Save" }).click();
    await expect.poll(() => ops.getByTestId("webhook-secret").textContent(), SLOW).toMatch(/whsec_/);
    expect(await ops.evaluate("sessionStorage.length")).toBe(1);
    await shotAccessible(ops, "10-ops-dashboard");

    // The vet ends the video consultation (clean state for the gateway's close).
    await vet.getByTestId("consultation-end").click();
    await vet.getByTestId("feedback-recommendation").waitFor();

    const origin = new URL(gw.url);
    const foreign = requested.filter((u) => {
      const url = new URL(u);
      return url.host !== origin.host && url.protocol !== "data:";
    });
    expect(foreign).toEqual([]);
    expect(problems).toEqual([]);
  }, 90_000);

  it("shows an emergency request in Spanish with both badges, on the offer and the consultation", async () => {
    // Demo vet 3 treats every species and speaks English and Italian, with the default capacity.
    const sofia = { email: "vet3@demo.test", password: "demo-vet-3" };
    const { page: vet } = await openPage();
    const { page: owner } = await openPage();
    await vet.goto(`${gw.url}/console/`);
    await vet.getByTestId("login-email").fill(sofia.email);
    await vet.getByTestId("login-password").fill(sofia.password);
    await vet.getByTestId("login-submit").click();
    const availability = vet.getByTestId("availability");
    await expect.poll(() => availability.getAttribute("value"), SLOW).toBe("away");
    expect(await vet.getByTestId("vet-species").textContent()).toBe("All species");
    expect(await vet.getByTestId("vet-languages").textContent()).toBe("English, Italian");
    expect(await vet.getByTestId("vet-max-chats").textContent()).toBe("1 chat");
    await availability.click();
    await expect.poll(() => availability.getAttribute("value"), SLOW).toBe("available");

    // Carla (a subscribed Protect owner) asks Sofia by email for an emergency chat in Spanish about Rocky.
    await owner.goto(`${gw.url}/demo/`);
    await expect.poll(() => owner.getByTestId("owner-select").locator("option").count(), SLOW).toBeGreaterThan(0);
    await owner.getByTestId("owner-select").selectOption("carla@demo.test");
    await expect
      .poll(() => owner.getByTestId("pet-select").locator("option", { hasText: "Rocky" }).count(), SLOW)
      .toBe(1);
    const rocky = await owner.getByTestId("pet-select").locator("option", { hasText: "Rocky" }).getAttribute("value");
    expect(rocky).toMatch(/^\d+$/);
    await owner.getByTestId("pet-select").selectOption(String(rocky));
    await owner.locator("#doctor").fill(sofia.email);
    await owner.getByTestId("language-select").selectOption("es");
    await owner.getByTestId("emergency").check();
    await expect.poll(() => owner.locator(".conn").textContent(), SLOW).toContain("Connected");
    await owner.getByTestId("request-chat").click();

    const offer = vet.getByTestId("offer");
    await offer.waitFor(SLOW);
    expect(await offer.getByTestId("offer-emergency").textContent()).toBe("Emergency");
    const language = offer.getByTestId("offer-language");
    expect(await language.getAttribute("data-language")).toBe("es");
    // The name comes from Intl.DisplayNames in the page's language; Sofia does not list Spanish, and the badge says so.
    expect(await language.textContent()).toBe("Spanish, not one of your languages");
    expect(await language.getAttribute("class")).toContain("foreign");
    expect(await offer.getAttribute("aria-label")).toBe("Emergency: Chat request from Carla Nguyen");
    await shotAccessible(vet, "11-console-offer-emergency");
    // The demo echoes what it asked for while it waits.
    await expect
      .poll(() => owner.locator("body").textContent(), SLOW)
      .toContain("Waiting for a vet (chat · emergency · Spanish)");
    await shot(owner, "11b-demo-emergency-request");

    await offer.getByTestId("offer-accept").click();
    const consultation = vet.getByTestId("consultation");
    await consultation.waitFor();
    expect(await consultation.getByTestId("consultation-emergency").textContent()).toBe("Emergency");
    expect(await consultation.getByTestId("consultation-language").getAttribute("data-language")).toBe("es");
    // After a reload (resume from consult:state) the consultation still shows them.
    await vet.reload();
    await vet.getByTestId("consultation").waitFor();
    expect(await vet.getByTestId("consultation-emergency").isVisible()).toBe(true);
    expect(await vet.getByTestId("consultation-language").getAttribute("data-language")).toBe("es");
    await shotAccessible(vet, "12-console-active-emergency");
    // So does a console opened on another device, which never saw the offer: they come
    // with consult:state itself.
    const { ctx: deviceCtx, page: device } = await openPage();
    await device.goto(`${gw.url}/console/`);
    await device.getByTestId("login-email").fill(sofia.email);
    await device.getByTestId("login-password").fill(sofia.password);
    await device.getByTestId("login-submit").click();
    const resumed = device.getByTestId("consultation");
    await resumed.waitFor(SLOW);
    expect(await resumed.getAttribute("class")).toContain("emergency");
    expect(await resumed.getByTestId("consultation-emergency").textContent()).toBe("Emergency");
    const resumedLanguage = resumed.getByTestId("consultation-language");
    expect(await resumedLanguage.getAttribute("data-language")).toBe("es");
    expect(await resumedLanguage.textContent()).toBe("Spanish, not one of your languages");
    await shot(device, "12b-console-resumed-other-device");
    await deviceCtx.close();

    await vet.getByTestId("consultation-end").click();
    await vet.getByTestId("feedback-recommendation").waitFor();
    expect(problems).toEqual([]);
  }, 60_000);
});
