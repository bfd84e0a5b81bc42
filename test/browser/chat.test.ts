/**
 * Chat without Twilio in Chromium (PROTOCOL §10), demo mode, offline Twilio: the owner on the
 * demo page and the vet on the console exchange messages through the gateway (Enter sends,
 * Shift+Enter a new line), the newest at the bottom of each list; a hidden tab counts unread
 * messages in its title; a console reload gets the conversation back; after the end the
 * owner can still read it. Screenshots pass axe-core's WCAG 2 A/AA rules.
 */
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestGateway, type TestGateway } from "../support/gateway.js";
import { buildPages } from "./build-pages.js";
import { BrowserSession, SLOW } from "./session.js";

let gw: TestGateway;
/** A second gateway whose vets come back within a short `VET_GRACE_MS` or lose their consultations. */
let handoverGw: TestGateway;
let session: BrowserSession;

const openPage = (): Promise<Page> => session.openPage(860);
const shotAccessible = (page: Page, name: string): Promise<void> => session.shotAccessible(page, name);

/** Makes the page believe its tab is hidden (or shown again), as switching tabs would. */
async function setHidden(page: Page, hidden: boolean): Promise<void> {
  await page.evaluate((h) => {
    const doc = (globalThis as unknown as { document: { dispatchEvent(e: unknown): void } }).document;
    Object.defineProperty(doc, "hidden", { configurable: true, get: () => h });
    Object.defineProperty(doc, "visibilityState", { configurable: true, get: () => (h ? "hidden" : "visible") });
    doc.dispatchEvent(new (globalThis as unknown as { Event: new (t: string) => unknown }).Event("visibilitychange"));
  }, hidden);
}

/** The texts of the chat messages shown, top to bottom. */
const texts = (page: Page) => page.getByTestId("chat-message").locator(".text").allTextContents();

/** Whether the message list is scrolled to its newest message. */
const atBottom = (page: Page) =>
  page.locator(".chat .messages").evaluate((el) => {
    const list = el as unknown as { scrollTop: number; scrollHeight: number; clientHeight: number };
    return list.scrollHeight - list.scrollTop - list.clientHeight < 2;
  });

beforeAll(async () => {
  await buildPages();
  gw = await startTestGateway({
    db: "pglite",
    env: { DEMO: "1", TWILIO_MODE: "offline", OFFER_TIMEOUT_MS: "30000", WRAPUP_MS: "60000" },
  });
  handoverGw = await startTestGateway({
    db: "pglite",
    env: { DEMO: "1", TWILIO_MODE: "offline", OFFER_TIMEOUT_MS: "30000", VET_GRACE_MS: "800" },
  });
  session = await BrowserSession.launch();
}, 120_000);

afterAll(async () => {
  await session?.close();
  await gw?.close();
  await handoverGw?.close();
});

/** A vet signed in on the console of `base`, available unless told. */
async function consoleFor(base: string, email: string, password: string, available = true): Promise<Page> {
  const vet = await openPage();
  await vet.goto(`${base}/console/`);
  await vet.getByTestId("login-email").fill(email);
  await vet.getByTestId("login-password").fill(password);
  await vet.getByTestId("login-submit").click();
  const availability = vet.getByTestId("availability");
  await expect.poll(() => availability.getAttribute("value"), SLOW).toBe("away");
  if (available) {
    await availability.click();
    await expect.poll(() => availability.getAttribute("value"), SLOW).toBe("available");
  }
  return vet;
}

describe("chat in the pages (offline mode)", () => {
  it("owner and vet talk through the gateway; unread count in a hidden tab; the console reload keeps the chat", async () => {
    const vet = await openPage();
    await vet.goto(`${gw.url}/console/`);
    await vet.getByTestId("login-email").fill("vet1@demo.test");
    await vet.getByTestId("login-password").fill("demo-vet-1");
    await vet.getByTestId("login-submit").click();
    const availability = vet.getByTestId("availability");
    await expect.poll(() => availability.getAttribute("value"), SLOW).toBe("away");
    await availability.click();
    await expect.poll(() => availability.getAttribute("value"), SLOW).toBe("available");

    const owner = await openPage();
    await owner.goto(`${gw.url}/demo/`);
    await expect.poll(() => owner.getByTestId("owner-select").locator("option").count(), SLOW).toBeGreaterThan(0);
    await expect.poll(() => owner.locator(".conn").textContent(), SLOW).toContain("Connected");
    await owner.getByTestId("request-chat").click();
    const offer = vet.getByTestId("offer");
    await offer.waitFor(SLOW);
    await offer.getByTestId("offer-accept").click();
    const consultation = vet.getByTestId("consultation");
    await consultation.waitFor(SLOW);
    await owner.getByTestId("matched").waitFor(SLOW);

    // A real chat replaces the "simulated" notice on both pages.
    expect(await consultation.textContent()).not.toMatch(/simulated/i);
    expect(await owner.locator("#status").textContent()).not.toMatch(/simulated/i);
    expect(await vet.getByTestId("chat-message").count()).toBe(0);
    await shotAccessible(owner, "30-demo-chat-empty");

    // The owner writes; Enter sends.
    const ownerInput = owner.getByTestId("chat-input");
    await ownerInput.fill("Hi! Biscuit ate a sock this morning and seems a bit quiet.");
    await ownerInput.press("Enter");
    await expect.poll(() => texts(vet), SLOW).toEqual(["Hi! Biscuit ate a sock this morning and seems a bit quiet."]);
    await expect.poll(() => texts(owner), SLOW).toEqual(["Hi! Biscuit ate a sock this morning and seems a bit quiet."]);
    expect(await ownerInput.inputValue()).toBe("");
    expect(await owner.getByTestId("chat-message").first().getAttribute("class")).toBe("mine");

    // The vet answers over two lines (Shift+Enter), then Enter sends.
    const vetInput = vet.getByTestId("chat-input");
    await vetInput.click();
    await vetInput.pressSequentially("Thanks for telling me straight away.");
    await vetInput.press("Shift+Enter");
    await vetInput.pressSequentially("Has she vomited, and is she drinking water?");
    expect(await vetInput.inputValue()).toBe(
      "Thanks for telling me straight away.\nHas she vomited, and is she drinking water?",
    );
    await vetInput.press("Enter");
    const vetReply = "Thanks for telling me straight away.\nHas she vomited, and is she drinking water?";
    await expect
      .poll(() => texts(owner), SLOW)
      .toEqual(["Hi! Biscuit ate a sock this morning and seems a bit quiet.", vetReply]);
    await expect.poll(() => texts(vet), SLOW).toHaveLength(2);
    expect(await vet.getByTestId("chat-message").last().getAttribute("class")).toBe("mine");
    expect(await owner.getByTestId("chat-message").last().locator(".who").textContent()).toMatch(/^Maya Patel · /);

    // The owner's tab is hidden: the title counts what arrives; showing the tab clears it.
    const title = await owner.title();
    await setHidden(owner, true);
    await vet.getByTestId("chat-input").fill("If she vomits more than twice, please come in.");
    await vet.getByTestId("chat-send").click();
    await expect.poll(() => owner.title(), SLOW).toBe(`(1) ${title}`);
    await vet.getByTestId("chat-input").fill("Otherwise small meals today.");
    await vet.getByTestId("chat-input").press("Enter");
    await expect.poll(() => owner.title(), SLOW).toBe(`(2) ${title}`);
    await setHidden(owner, false);
    expect(await owner.title()).toBe(title);
    // The vet's own messages never count as unread on the console.
    expect(await vet.title()).not.toMatch(/^\(\d+\)/);

    await vet.getByTestId("chat-input").fill("Good. Keep an eye on her tonight.");
    await shotAccessible(vet, "31-console-chat");

    // Enough messages to scroll: the newest stays in view at the bottom.
    for (let i = 1; i <= 6; i++) {
      await ownerInput.fill(`Update ${i}: she is resting on the sofa.`);
      await ownerInput.press("Enter");
      await expect.poll(() => texts(vet), SLOW).toHaveLength(4 + i);
    }
    await expect.poll(() => texts(owner), SLOW).toHaveLength(10);
    expect((await texts(vet)).at(-1)).toBe("Update 6: she is resting on the sofa.");
    await expect.poll(() => atBottom(vet), SLOW).toBe(true);
    await expect.poll(() => atBottom(owner), SLOW).toBe(true);
    await shotAccessible(vet, "31b-console-chat-scrolled");
    await shotAccessible(owner, "32-demo-chat");

    // The console reloads: the conversation comes back with consult:state, in order.
    await vet.reload();
    await vet.getByTestId("consultation").waitFor(SLOW);
    await expect.poll(() => texts(vet), SLOW).toHaveLength(10);
    expect((await texts(vet))[1]).toBe(vetReply);
    await expect.poll(() => atBottom(vet), SLOW).toBe(true);
    await vet.getByTestId("chat-input").fill("Still here after the reload.");
    await vet.getByTestId("chat-send").click();
    await expect.poll(() => texts(owner), SLOW).toHaveLength(11);
    await shotAccessible(vet, "33-console-chat-resumed");

    // The owner ends: the transcript stays readable (scrolled to the newest), the input is gone.
    await owner.getByTestId("owner-end").click();
    await vet.getByTestId("feedback-recommendation").waitFor(SLOW);
    await expect.poll(() => owner.getByTestId("chat-input").isVisible(), SLOW).toBe(false);
    expect(await owner.getByTestId("chat-input").isDisabled()).toBe(true);
    expect(await owner.locator(".chat").textContent()).toContain("The consultation has ended.");
    expect(await texts(owner)).toHaveLength(11);
    await expect.poll(() => atBottom(owner), SLOW).toBe(true);
    await shotAccessible(owner, "34-demo-chat-ended");
    // The vet's wrap-up keeps the conversation, folded under the feedback form.
    const transcript = vet.locator(".wrapup details.transcript");
    // The cursor is in the feedback form, not in the transcript.
    expect(
      await vet.evaluate(() =>
        (
          globalThis as unknown as { document: { activeElement: { getAttribute(n: string): string | null } } }
        ).document.activeElement.getAttribute("data-testid"),
      ),
    ).toBe("feedback-outcome");

    expect(await transcript.locator("summary").textContent()).toBe("The conversation (11 messages)");
    await transcript.locator("summary").click();
    await expect.poll(() => transcript.getByTestId("chat-message").count(), SLOW).toBe(11);
    expect(await transcript.getByTestId("chat-input").isVisible()).toBe(false);
    await shotAccessible(vet, "35-console-wrapup-transcript");
    expect(session.problems).toEqual([]);
  });
});

describe("chat when the vet leaves (offline mode)", () => {
  it("the owner keeps the conversation in view while waiting again; the next vet's console shows it on accept", async () => {
    const base = handoverGw.url;
    const first = await consoleFor(base, "vet1@demo.test", "demo-vet-1");
    const owner = await openPage();
    await owner.goto(`${base}/demo/`);
    await expect.poll(() => owner.getByTestId("owner-select").locator("option").count(), SLOW).toBeGreaterThan(0);
    await expect.poll(() => owner.locator(".conn").textContent(), SLOW).toContain("Connected");
    await owner.getByTestId("request-chat").click();
    await first.getByTestId("offer").waitFor(SLOW);
    await first.getByTestId("offer-accept").click();
    await owner.getByTestId("matched").waitFor(SLOW);
    await owner.getByTestId("chat-input").fill("Biscuit is scratching his ear a lot.");
    await owner.getByTestId("chat-input").press("Enter");
    await expect.poll(() => texts(first), SLOW).toHaveLength(1);
    await first.getByTestId("chat-input").fill("Is the ear red or smelly?");
    await first.getByTestId("chat-input").press("Enter");
    await expect
      .poll(() => texts(owner), SLOW)
      .toEqual(["Biscuit is scratching his ear a lot.", "Is the ear red or smelly?"]);

    // A second vet comes online; the first one's console goes away for good.
    const next = await consoleFor(base, "vet3@demo.test", "demo-vet-3");
    await first.context().close();
    await owner.getByTestId("queue-position").waitFor(SLOW);
    expect(await owner.getByTestId("queue-position").textContent()).toContain("Your vet left");
    // The conversation stays in view, read-only, while the owner waits.
    await expect
      .poll(() => texts(owner), SLOW)
      .toEqual(["Biscuit is scratching his ear a lot.", "Is the ear red or smelly?"]);
    expect(await owner.getByTestId("chat-input").isVisible()).toBe(false);
    expect(await owner.locator(".chat").textContent()).toContain("The chat continues when the next vet joins.");
    await shotAccessible(owner, "36-demo-chat-waiting-again");

    // The next vet accepts and sees the conversation so far; the owner can write again.
    const offer = next.getByTestId("offer");
    await offer.waitFor(SLOW);
    await offer.getByTestId("offer-accept").click();
    await next.getByTestId("consultation").waitFor(SLOW);
    await expect
      .poll(() => texts(next), SLOW)
      .toEqual(["Biscuit is scratching his ear a lot.", "Is the ear red or smelly?"]);
    expect(await next.getByTestId("chat-message").nth(1).locator(".who").textContent()).toMatch(/^Maya Patel · /);
    await next.getByTestId("chat-input").fill("Hello, I am Dr. Rossi and I have read the conversation so far.");
    await next.getByTestId("chat-input").press("Enter");
    await expect.poll(() => texts(owner), SLOW).toHaveLength(3);
    expect(await owner.getByTestId("chat-input").isVisible()).toBe(true);
    await shotAccessible(next, "37-console-chat-taken-over");
    await owner.getByTestId("owner-end").click();
    await next.getByTestId("feedback-recommendation").waitFor(SLOW);
    expect(session.problems).toEqual([]);
  });
});
