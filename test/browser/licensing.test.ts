/**
 * Licensing in Chromium (PROTOCOL §4), demo mode with `LICENSING=on`: the demo's region, care
 * and fallback controls; the owner told that their request became advice; the vet console's
 * licences in the top bar, the "Advice only" badge on the offer and the banner on the
 * consultation (after a reload too). Screenshots pass axe-core's WCAG 2 A/AA rules.
 */
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestGateway, type TestGateway } from "../support/gateway.js";
import { buildPages } from "./build-pages.js";
import { BrowserSession, SLOW } from "./session.js";

const LICENSE_WAIT_MS = 1500;

let gw: TestGateway;
let session: BrowserSession;

const openPage = (): Promise<Page> => session.openPage(820);
const shotAccessible = (page: Page, name: string): Promise<void> => session.shotAccessible(page, name);

beforeAll(async () => {
  await buildPages();
  gw = await startTestGateway({
    db: "pglite",
    env: { DEMO: "1", LICENSING: "on", LICENSE_WAIT_MS: String(LICENSE_WAIT_MS), OFFER_TIMEOUT_MS: "30000" },
  });
  session = await BrowserSession.launch();
}, 120_000);

afterAll(async () => {
  await session?.close();
  await gw?.close();
});

describe("licensing in the pages", () => {
  it("a treatment request in Texas becomes advice; the vet sees 'Advice only' on the offer and the consultation", async () => {
    // Sofia treats every species and is licensed in Italy only.
    const vet = await openPage();
    await vet.goto(`${gw.url}/console/`);
    await vet.getByTestId("login-email").fill("vet3@demo.test");
    await vet.getByTestId("login-password").fill("demo-vet-3");
    await vet.getByTestId("login-submit").click();
    const availability = vet.getByTestId("availability");
    await expect.poll(() => availability.getAttribute("value"), SLOW).toBe("away");
    expect(await vet.getByTestId("vet-licenses").textContent()).toBe("Licensed: IT");
    await availability.click();
    await expect.poll(() => availability.getAttribute("value"), SLOW).toBe("available");

    // Alice (California) asks about Biscuit from Texas, where no demo vet is licensed.
    const owner = await openPage();
    await owner.goto(`${gw.url}/demo/`);
    await expect.poll(() => owner.getByTestId("owner-select").locator("option").count(), SLOW).toBeGreaterThan(0);
    await owner.getByTestId("owner-select").selectOption("alice@demo.test");
    expect(await owner.getByTestId("owner-select").locator("option:checked").textContent()).toContain("US-CA");
    await owner.getByTestId("region-select").selectOption("US-TX");
    expect(await owner.getByTestId("care-select").inputValue()).toBe("treatment");
    expect(await owner.getByTestId("advice-fallback").isChecked()).toBe(true);
    await expect.poll(() => owner.locator(".conn").textContent(), SLOW).toContain("Connected");
    await shotAccessible(owner, "20-demo-region-care");
    await owner.getByTestId("request-chat").click();

    // Nothing reaches Sofia while it is a treatment request; then the owner is told, and she is offered it.
    await owner.getByTestId("queue-position").waitFor(SLOW);
    expect(await vet.getByTestId("offer").count()).toBe(0);
    const fallback = owner.getByTestId("care-fallback");
    await fallback.waitFor(SLOW);
    expect(await fallback.textContent()).toContain("general advice");
    const offer = vet.getByTestId("offer");
    await offer.waitFor(SLOW);
    expect(await offer.getByTestId("offer-advice").textContent()).toBe("Advice only");
    expect(await offer.getByTestId("offer-region").textContent()).toBe("US-TX");
    await shotAccessible(owner, "21-demo-became-advice");
    await shotAccessible(vet, "22-console-offer-advice");

    await offer.getByTestId("offer-accept").click();
    const banner = vet.getByTestId("care-advice");
    await banner.waitFor(SLOW);
    expect(await banner.textContent()).toBe(
      "Advice only. General advice only: no diagnosis and no prescription for this animal. The animal is in US-TX.",
    );
    await owner.getByTestId("care-advice").waitFor(SLOW);
    // A reload resumes it from consult:state, banner included.
    await vet.reload();
    await vet.getByTestId("care-advice").waitFor(SLOW);
    await shotAccessible(vet, "23-console-active-advice");
    await vet.getByTestId("consultation-end").click();
    await vet.getByTestId("feedback-recommendation").waitFor(SLOW);
    expect(session.problems).toEqual([]);
  }, 90_000);
});
