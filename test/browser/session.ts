/**
 * What every page test does with Chromium: launch Debian's (never a download), open pages
 * that record console and page errors, and take axe-checked screenshots.
 */
import { mkdirSync } from "node:fs";
import path from "node:path";
import { chromium, type Browser, type Page } from "playwright-core";
import { expect } from "vitest";
import { axeViolations } from "./axe.js";

export const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
export const SHOTS = path.resolve("test-results/screenshots");
/** Polls wait on a browser and a gateway sharing two busy cores. */
export const SLOW = { timeout: 10_000 };

export class BrowserSession {
  /** Console errors and uncaught page errors of every page opened; a test expects none. */
  readonly problems: string[] = [];

  private constructor(readonly browser: Browser) {}

  static async launch(): Promise<BrowserSession> {
    mkdirSync(SHOTS, { recursive: true });
    return new BrowserSession(
      await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox", "--disable-dev-shm-usage"] }),
    );
  }

  /** A page in a fresh context (its own storage), `height` tall at 1280 wide. */
  async openPage(height: number): Promise<Page> {
    const ctx = await this.browser.newContext({ viewport: { width: 1280, height } });
    const page = await ctx.newPage();
    page.on("console", (m) => {
      if (m.type() === "error") this.problems.push(`console error on ${page.url()}: ${m.text()}`);
    });
    page.on("pageerror", (e) => this.problems.push(`page error on ${page.url()}: ${e.message}`));
    return page;
  }

  /** No axe (WCAG 2 AA) violation on the page, then its screenshot `SHOTS/{name}.png`. */
  async shotAccessible(page: Page, name: string, opts: { fullPage?: boolean } = {}): Promise<void> {
    expect(await axeViolations(page), name).toEqual([]);
    await page.screenshot({ path: path.join(SHOTS, `${name}.png`), ...(opts.fullPage ? { fullPage: true } : {}) });
  }

  close(): Promise<void> {
    return this.browser.close();
  }
}
