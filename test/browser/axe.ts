/**
 * Accessibility checks with axe-core (WCAG 2 A and AA rules) inside a page driven by
 * playwright-core: the page must have no violation.
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import type { Page } from "playwright-core";

const axeSource = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");

interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: Array<{ target: string[] }>;
}

/** The page's WCAG 2 A/AA violations, one line each (empty when it passes). */
export async function axeViolations(page: Page): Promise<string[]> {
  // The pages' CSP allows same-origin scripts only: evaluate the source rather than add a tag.
  await page.evaluate(axeSource);
  const violations = await page.evaluate(async () => {
    // Runs in the page: `document` is the page's (the test's tsconfig has no DOM types).
    const page = globalThis as unknown as {
      axe: { run(ctx: unknown, opts: object): Promise<{ violations: AxeViolation[] }> };
      document: unknown;
    };
    const result = await page.axe.run(page.document, {
      runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"] },
    });
    return result.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      nodes: v.nodes.map((n) => ({ target: n.target })),
    }));
  });
  return violations.map(
    (v) => `${v.id} (${v.impact ?? "?"}): ${v.help} — ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`,
  );
}
