/**
 * A warm referral in Chromium (PROTOCOL §10), demo mode: Maya refers Alice's chat to Sofia
 * from the console's "Refer" dialog; Sofia's offer card shows the referral and its note; after
 * her accept both consoles hold it until Maya leaves; the owner's demo page shows the new vet.
 * Then Sofia refers it back to Maya, who declines: Sofia sees that the referral failed and
 * keeps the consultation. Every photographed state passes axe-core's WCAG 2 A/AA rules.
 */
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestGateway, type TestGateway } from "../support/gateway.js";
import { buildPages } from "./build-pages.js";
import { BrowserSession, SLOW } from "./session.js";

let gw: TestGateway;
let session: BrowserSession;

const openPage = (): Promise<Page> => session.openPage(820);
const shotAccessible = (page: Page, name: string): Promise<void> => session.shotAccessible(page, name);

/** A demo vet signed in to the console and available. */
async function vetConsole(n: number): Promise<Page> {
  const page = await openPage();
  await page.goto(`${gw.url}/console/`);
  await page.getByTestId("login-email").fill(`vet${n}@demo.test`);
  await page.getByTestId("login-password").fill(`demo-vet-${n}`);
  await page.getByTestId("login-submit").click();
  const availability = page.getByTestId("availability");
  await expect.poll(() => availability.getAttribute("value"), SLOW).toBe("away");
  await availability.click();
  await expect.poll(() => availability.getAttribute("value"), SLOW).toBe("available");
  return page;
}

beforeAll(async () => {
  await buildPages();
  gw = await startTestGateway({ db: "pglite", env: { DEMO: "1", OFFER_TIMEOUT_MS: "30000", WRAPUP_MS: "0" } });
  session = await BrowserSession.launch();
}, 120_000);

afterAll(async () => {
  await session?.close();
  await gw?.close();
});

describe("a referral in the pages", () => {
  it("warm: the dialog, the referral card, both vets in it, Leave, the owner told; then a declined referral's notice", async () => {
    const maya = await vetConsole(1);
    const owner = await openPage();
    await owner.goto(`${gw.url}/demo/`);
    await expect.poll(() => owner.getByTestId("owner-select").locator("option").count(), SLOW).toBeGreaterThan(0);
    await owner.getByTestId("owner-select").selectOption("alice@demo.test");
    await expect.poll(() => owner.locator(".conn").textContent(), SLOW).toContain("Connected");
    await owner.getByTestId("request-chat").click();
    await maya.getByTestId("offer").getByTestId("offer-accept").click();
    await maya.getByTestId("consultation").waitFor(SLOW);
    await owner.getByTestId("matched").waitFor(SLOW);
    expect(await owner.getByTestId("matched").textContent()).toContain("Maya Patel");

    const sofia = await vetConsole(3);
    // Maya refers it to Sofia, warm, with a note.
    await maya.getByTestId("transfer-open").click();
    const dialog = maya.getByTestId("transfer-dialog");
    await dialog.waitFor(SLOW);
    await maya.getByTestId("transfer-email").fill("vet3@demo.test");
    await maya
      .getByTestId("transfer-note")
      .fill("Itchy rash on the belly for a week; please take over the skin work-up.");
    expect(await maya.getByTestId("transfer-mode-warm").isChecked()).toBe(true);
    await shotAccessible(maya, "30-console-refer-dialog");
    await maya.getByTestId("transfer-submit").click();
    await expect.poll(() => dialog.isVisible(), SLOW).toBe(false);
    expect(await maya.getByTestId("referral-status").textContent()).toContain("Referral pending");

    const offer = sofia.getByTestId("offer");
    await offer.waitFor(SLOW);
    const card = offer.getByTestId("offer-referral");
    expect(await card.textContent()).toContain("Referral from Dr. Maya Patel");
    expect(await card.getByTestId("offer-referral-note").textContent()).toBe(
      "Itchy rash on the belly for a week; please take over the skin work-up.",
    );
    await shotAccessible(sofia, "31-console-referral-offer");
    await offer.getByTestId("offer-accept").click();
    await sofia.getByTestId("consultation").waitFor(SLOW);

    // Warm: both consoles hold it; Maya's offers Leave instead of End.
    const status = maya.getByTestId("referral-status");
    await expect.poll(() => status.textContent(), SLOW).toContain("Dr. Sofia Rossi took over");
    expect(await maya.getByTestId("consultation-leave").isVisible()).toBe(true);
    expect(await maya.getByTestId("consultation-end").isVisible()).toBe(false);
    const told = owner.getByTestId("transferred");
    await told.waitFor(SLOW);
    expect(await told.textContent()).toContain("Sofia Rossi");
    expect(await owner.getByTestId("matched").textContent()).toContain("Sofia Rossi");
    await shotAccessible(maya, "32-console-warm-overlap-first-vet");
    await shotAccessible(sofia, "33-console-warm-overlap-next-vet");
    await shotAccessible(owner, "34-demo-transferred");

    await maya.getByTestId("consultation-leave").click();
    await expect.poll(() => maya.getByTestId("consultation").count(), SLOW).toBe(0);
    expect(await sofia.getByTestId("consultation").count()).toBe(1);

    // Sofia refers it back to Maya, who declines: Sofia is told and keeps it.
    await sofia.getByTestId("transfer-open").click();
    await sofia.getByTestId("transfer-email").fill("vet1@demo.test");
    await sofia.getByTestId("transfer-mode-cold").check();
    await sofia.getByTestId("transfer-submit").click();
    await maya.getByTestId("offer").getByTestId("offer-decline").click();
    const failed = sofia.locator("#banners .notice.warn");
    await failed.waitFor(SLOW);
    expect(await failed.textContent()).toContain("Referral failed: The vet you named declined the referral.");
    expect(await sofia.getByTestId("consultation").count()).toBe(1);
    expect(await sofia.getByTestId("transfer-open").isVisible()).toBe(true);
    await shotAccessible(sofia, "35-console-referral-failed");
    await sofia.getByTestId("consultation-end").click();
    await owner.getByTestId("owner-end").waitFor({ state: "detached", ...SLOW });
    expect(session.problems).toEqual([]);
  }, 120_000);
});
