/**
 * Builds the pages (dist/public) once for the browser test files, which vitest runs in
 * parallel: a lock directory serialises builds, and a hash of the sources the pages are made
 * of skips a build that is already current (so one file never empties dist/public under another).
 */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

const SOURCES = ["web", "src/client", "src/protocol", "vite.config.ts", "package-lock.json"];
const LOCK = path.resolve("dist/.pages-build.lock");
const STAMP = path.resolve("dist/public/.source-hash");
const STALE_LOCK_MS = 180_000;

function files(p: string): string[] {
  if (!statSync(p).isDirectory()) return [p];
  return readdirSync(p).flatMap((f) => files(path.join(p, f)));
}

function sourceHash(): string {
  const h = createHash("sha256");
  for (const f of SOURCES.flatMap((s) => files(path.resolve(s))).sort()) h.update(f).update(readFileSync(f));
  return h.digest("hex");
}

/** Builds the pages as `npm run build` does, unless the current sources are built already. */
export async function buildPages(): Promise<void> {
  mkdirSync(path.dirname(LOCK), { recursive: true });
  for (;;) {
    try {
      mkdirSync(LOCK);
      break;
    } catch {
      // Another file is building; a lock left by a killed run is taken over.
      const held = statSync(LOCK, { throwIfNoEntry: false });
      if (held && Date.now() - held.mtimeMs > STALE_LOCK_MS) rmSync(LOCK, { recursive: true, force: true });
      await sleep(200);
    }
  }
  try {
    const hash = sourceHash();
    let built = "";
    try {
      built = readFileSync(STAMP, "utf8");
    } catch {
      /* never built */
    }
    if (built === hash) return;
    // vitest sets NODE_ENV=test, which would keep libraries' development code in the bundle.
    execFileSync(path.resolve("node_modules/.bin/vite"), ["build"], {
      stdio: "pipe",
      env: { ...process.env, NODE_ENV: "production" },
    });
    writeFileSync(STAMP, hash);
  } finally {
    rmSync(LOCK, { recursive: true, force: true });
  }
}
