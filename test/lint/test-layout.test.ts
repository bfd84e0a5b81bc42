/**
 * Tests mirror what they test (issue 22): `test/<path>.test.ts` tests `src/<path>.ts` (or a
 * `.lua` script, or a folder), `test/<path>/<aspect>.test.ts` one aspect of it; `test/web/`
 * and `test/deploy/` mirror `web/` and `deploy/`, `test/support/` its own helpers. Only scenarios that span the whole gateway
 * live apart, in folders named for what they are: `browser/`, `faults/`, `docs/`, `lint/`.
 */
import { existsSync, readdirSync, statSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";

const ROOT = path.resolve(import.meta.dirname, "../..");
const SCENARIOS = new Set(["browser", "faults", "docs", "lint"]);

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    return statSync(full).isDirectory() ? walk(full) : [full];
  });
}

/** The source a test path names, or null. */
function mirrored(rel: string): string | null {
  const [top] = rel.split("/");
  const base =
    top === "web" || top === "deploy" ? ROOT : top === "support" ? path.join(ROOT, "test") : path.join(ROOT, "src");
  const stem = rel.replace(/\.test(-d)?\.ts$/, "");
  // The stem itself: a module, a script or a folder of them.
  for (const ext of [".ts", ".lua"])
    if (existsSync(path.join(base, stem + ext))) return path.relative(ROOT, path.join(base, stem + ext));
  if (existsSync(path.join(base, stem)) && statSync(path.join(base, stem)).isDirectory())
    return path.relative(ROOT, path.join(base, stem));
  // One aspect of a module: its folder is named for the module.
  const owner = path.join(base, path.dirname(stem));
  for (const ext of [".ts", ".lua"]) if (existsSync(owner + ext)) return path.relative(ROOT, owner + ext);
  return null;
}

describe("test layout", () => {
  const tests = walk(path.join(ROOT, "test"))
    .map((f) => path.relative(path.join(ROOT, "test"), f).split(path.sep).join("/"))
    .filter((f) => /\.test(-d)?\.ts$/.test(f) && !SCENARIOS.has(f.split("/")[0]));

  it("finds the tests", () => {
    expect(tests.length).toBeGreaterThan(50);
  });

  it("every test outside the scenario folders mirrors a file or folder of src/, web/ or test/support/", () => {
    expect(tests.filter((t) => mirrored(t) === null)).toEqual([]);
  });

  it("would catch a test named for nothing", () => {
    expect(mirrored("domain/nothing-here.test.ts")).toBeNull();
    expect(mirrored("domain/planner.test.ts")).toBe("src/domain/planner.ts");
    expect(mirrored("sockets/socket-gateway/flows.test.ts")).toBe("src/sockets/socket-gateway.ts");
  });
});
