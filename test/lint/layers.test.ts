/**
 * The layer rules of `.dependency-cruiser.cjs` bite (issue 22). Each back-arrow below is
 * written into a small throwaway tree (one file importing one other) and cruised with the
 * project's own configuration: it must break exactly its named rule. The arrows the layering
 * allows must break none, a module cycle and a folder cycle must be caught, and the real
 * `src/` must break nothing (what `npm run lint:layers` checks, over test, bench and
 * examples too).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { cruise, type ICruiseOptions, type ICruiseResult } from "dependency-cruiser";
import extractDepcruiseOptions from "dependency-cruiser/config-utl/extract-depcruise-options";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const root = fileURLToPath(new URL("../../", import.meta.url));

let options: ICruiseOptions;
const trees: string[] = [];

beforeAll(async () => {
  options = await extractDepcruiseOptions(path.join(root, ".dependency-cruiser.cjs"));
});

afterAll(() => {
  for (const dir of trees) rmSync(dir, { recursive: true, force: true });
});

/** One broken rule as `rule: from → to` (folders for folder rules), sorted for comparison. */
type Finding = string;

/** Cruises `dirs` under `baseDir` with the project's rules; the violations found. */
async function violations(baseDir: string, dirs: string[]): Promise<Finding[]> {
  const result = await cruise(dirs, { ...options, baseDir });
  const output = result.output as ICruiseResult;
  return output.summary.violations.map((v) => `${v.rule.name}: ${v.from} → ${v.to}`).sort();
}

/** A throwaway tree: each `imports` entry `[from, to]` makes `from` import `to` (both .ts under the root). */
function tree(imports: [string, string][]): string {
  const dir = mkdtempSync(path.join(tmpdir(), "layers-"));
  trees.push(dir);
  const files = new Map<string, string[]>();
  for (const [from, to] of imports) {
    files.set(from, [...(files.get(from) ?? []), to]);
    if (!files.has(to)) files.set(to, []);
  }
  let n = 0;
  for (const [file, targets] of files) {
    const lines = targets.map((to) => {
      let spec = path.posix.relative(path.posix.dirname(file), to).replace(/\.ts$/, ".js");
      if (!spec.startsWith(".")) spec = `./${spec}`;
      // A type-only import is an arrow too: the old domain → config one was `import type`.
      return `import type { Marker as M${String(n++)} } from "${spec}";`;
    });
    lines.push("export interface Marker { readonly file: string }");
    mkdirSync(path.join(dir, path.dirname(file)), { recursive: true });
    writeFileSync(path.join(dir, file), `${lines.join("\n")}\n`);
  }
  return dir;
}

describe("layer rules", () => {
  // Each: the rule's name, then a file that imports what its layer must not. Several are the
  // back-arrows issue 22 removed: lib → domain and db, domain → config, sockets → http,
  // cli → routes.
  const backArrows: [rule: string, from: string, to: string][] = [
    ["protocol-imports-nothing-from-src", "src/protocol/events.ts", "src/lib/app-error.ts"],
    ["lib-imports-only-lib-and-protocol", "src/lib/storage-unavailable.ts", "src/domain/errors.ts"],
    ["lib-imports-only-lib-and-protocol", "src/lib/storage-unavailable.ts", "src/db/errors.ts"],
    ["domain-imports-only-domain-lib-protocol", "src/domain/x.ts", "src/http/y.ts"],
    ["domain-imports-only-domain-lib-protocol", "src/domain/engine-config.ts", "src/config.ts"],
    [
      "routing-store-imports-only-routing-store-domain-lib",
      "src/routing-store/memory/store.ts",
      "src/repositories/ledger.ts",
    ],
    ["db-imports-only-db-and-lib", "src/db/schema.ts", "src/domain/types.ts"],
    ["repositories-not-auth-or-transports", "src/repositories/apps.ts", "src/auth/app-auth.ts"],
    ["repositories-not-auth-or-transports", "src/repositories/users.ts", "src/transport/validation.ts"],
    ["transport-not-http-or-sockets", "src/transport/validation.ts", "src/http/app.ts"],
    ["sockets-not-http", "src/sockets/socket-gateway.ts", "src/http/security.ts"],
    ["http-not-sockets", "src/http/app.ts", "src/sockets/socket-gateway.ts"],
    ["cli-not-routes-app-sockets-server", "src/cli/admin.ts", "src/http/routes/admin.ts"],
    ["cli-not-routes-app-sockets-server", "src/cli/admin.ts", "src/server.ts"],
    ["client-imports-only-client-and-protocol", "src/client/index.ts", "src/lib/app-error.ts"],
  ];

  it.each(backArrows)("%s: %s → %s is refused", async (rule, from, to) => {
    expect(await violations(tree([[from, to]]), ["src"])).toEqual([`${rule}: ${from} → ${to}`]);
  });

  it("lets the one-way arrows through", async () => {
    const dir = tree([
      ["src/protocol/events.ts", "src/protocol/payloads.ts"],
      ["src/lib/app-error.ts", "src/protocol/envelope.ts"],
      ["src/domain/intake.ts", "src/lib/clock.ts"],
      ["src/domain/intake.ts", "src/protocol/events.ts"],
      ["src/routing-store/redis/store.ts", "src/domain/routing-store.ts"],
      ["src/db/database.ts", "src/lib/logger.ts"],
      ["src/repositories/ledger.ts", "src/db/database.ts"],
      ["src/repositories/ledger.ts", "src/domain/ports.ts"],
      ["src/transport/storage-unavailable.ts", "src/db/errors.ts"],
      ["src/transport/storage-unavailable.ts", "src/domain/errors.ts"],
      ["src/http/routes/admin.ts", "src/transport/validation.ts"],
      ["src/sockets/socket-gateway.ts", "src/transport/origin.ts"],
      ["src/cli/admin.ts", "src/http/schemas/admin.ts"],
      ["src/cli/admin.ts", "src/http/presenters/admin.ts"],
      ["src/client/index.ts", "src/protocol/events.ts"],
      ["src/server.ts", "src/sockets/socket-gateway.ts"],
    ]);
    expect(await violations(dir, ["src"])).toEqual([]);
  });

  it("refuses a module cycle, in src and in test", async () => {
    const dir = tree([
      ["src/lib/a.ts", "src/lib/b.ts"],
      ["src/lib/b.ts", "src/lib/a.ts"],
      ["test/support/x.ts", "test/support/y.ts"],
      ["test/support/y.ts", "test/support/x.ts"],
    ]);
    // One report per cycle, from whichever of its modules comes first.
    expect(await violations(dir, ["src", "test"])).toEqual([
      expect.stringMatching(/^no-circular: src\/lib\/[ab]\.ts → src\/lib\/[ab]\.ts$/),
      expect.stringMatching(/^no-circular: test\/support\/[xy]\.ts → test\/support\/[xy]\.ts$/),
    ]);
  });

  it("refuses a cycle between two folders even without a module cycle", async () => {
    const dir = tree([
      ["src/ops/metrics.ts", "src/twilio/identity.ts"],
      ["src/twilio/token-minter.ts", "src/ops/stats-history.ts"],
    ]);
    expect(await violations(dir, ["src"])).toEqual([
      "no-folder-cycle: src/ops → src/twilio",
      "no-folder-cycle: src/twilio → src/ops",
    ]);
  });

  it("finds no violation in the real src/", async () => {
    expect(await violations(root, ["src"])).toEqual([]);
  });
});
