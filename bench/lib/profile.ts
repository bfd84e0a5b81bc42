/**
 * Summarises a V8 `.cpuprofile` (from `node --cpu-prof`): self time by category (GC, node
 * internals, each npm package, each src/ file), the top functions by self time and the
 * src/ functions by inclusive time, as a percentage of the busy (non-idle) time.
 *
 * Positions are mapped back to src/*.ts: for the compiled gateway (`dist/*.js`, what the
 * benches run) through the `.js.map` files tsc writes next to them; for code run through tsx
 * through the source maps tsx keeps in its cache (`$TMPDIR/tsx-$UID/`, JSON `{code, map}`).
 * Without a map, the position is shown as "?".
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { SourceMap, type SourceMapPayload } from "node:module";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { REPO_ROOT } from "./services.js";

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
  columnNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** The newest tsx cache entry's source map for each source file under the repository. */
function tsxSourceMaps(): Map<string, SourceMap> {
  const dir = path.join(os.tmpdir(), `tsx-${process.getuid?.() ?? 0}`);
  const newest = new Map<string, { mtime: number; map: SourceMapPayload }>();
  let files: string[] = [];
  try {
    files = readdirSync(dir);
  } catch {
    return new Map();
  }
  for (const f of files) {
    const full = path.join(dir, f);
    try {
      const mtime = statSync(full).mtimeMs;
      const entry = JSON.parse(readFileSync(full, "utf8")) as { map?: SourceMapPayload };
      const src = entry.map?.sources?.[0];
      if (!entry.map || !src?.startsWith(REPO_ROOT)) continue;
      const prev = newest.get(src);
      if (!prev || prev.mtime < mtime) newest.set(src, { mtime, map: entry.map });
    } catch {
      /* not a JSON cache entry */
    }
  }
  return new Map([...newest].map(([k, v]) => [k, new SourceMap(v.map)]));
}

/** The source map tsc wrote next to a compiled file under dist/, if any (cached per file). */
function distSourceMaps(): (file: string) => SourceMap | undefined {
  const cache = new Map<string, SourceMap | undefined>();
  const dist = path.join(REPO_ROOT, "dist") + path.sep;
  return (file) => {
    if (!file.startsWith(dist) || !file.endsWith(".js")) return undefined;
    if (!cache.has(file)) {
      try {
        const payload = JSON.parse(readFileSync(`${file}.map`, "utf8")) as SourceMapPayload;
        // Sources are relative to the map; make them absolute like tsx's.
        payload.sources = payload.sources.map((s) => path.resolve(path.dirname(file), s));
        cache.set(file, new SourceMap(payload));
      } catch {
        cache.set(file, undefined);
      }
    }
    return cache.get(file);
  };
}

const rel = (file: string) => (file.startsWith(REPO_ROOT) ? file.slice(REPO_ROOT.length).replace(/^\/+/, "") : file);

/** Where a frame's code lives, for grouping: `GC`, `node:internal`, `pkg <name>`, `src/…`, … */
function category(file: string, fn: string): string {
  if (fn === "(garbage collector)") return "GC";
  if (fn === "(program)") return "(program: native, outside JS)";
  if (file === "") return `(native) ${fn || "anonymous"}`;
  if (file.startsWith("node:")) return "node: built-ins (net, http, stream, …)";
  const nm = file.lastIndexOf("node_modules/");
  if (nm >= 0) {
    const parts = file.slice(nm + "node_modules/".length).split("/");
    return `npm ${parts[0].startsWith("@") ? `${parts[0]}/${parts[1]}` : parts[0]}`;
  }
  return rel(file);
}

/** The component a package belongs to, for the "time by component" table. */
function component(cat: string): string {
  const pkg = cat.startsWith("npm ") ? cat.slice(4) : null;
  if (pkg === null) return cat.startsWith("src/") ? `gateway code: ${cat}` : cat;
  if (/^(drizzle-orm|pg|pg-pool|pg-protocol|pg-types|pgpass|postgres-.*)$/.test(pkg))
    return "PostgreSQL client (drizzle-orm, pg)";
  if (/^(redis|@redis\/.*|rate-limit-redis)$/.test(pkg)) return "Redis client (@redis/client)";
  if (/^(socket\.io.*|@socket\.io\/.*|engine\.io.*|ws|notepack\.io)$/.test(pkg))
    return "Socket.IO (engine.io, ws, redis-adapter)";
  if (
    /^(express|router|body-parser|raw-body|iconv-lite|qs|send|finalhandler|on-finished|type-is|content-type|mime.*|media-typer|http-errors|depd|statuses|express-rate-limit|multer|busboy)$/.test(
      pkg,
    )
  )
    return "Express (+ body parsing, rate limit)";
  if (/^(twilio|jsonwebtoken|jws|jwa|safe-buffer|lodash\..*)$/.test(pkg))
    return "Twilio token signing (twilio, jsonwebtoken)";
  if (pkg === "jose") return "socket tokens (jose)";
  return `npm ${pkg}`;
}

export interface ProfileSummary {
  busyMs: number;
  wallMs: number;
  text: string;
}

/** Summarises one profile file; `top` rows per table. */
export function summariseProfile(file: string, top = 15): ProfileSummary {
  const prof = JSON.parse(readFileSync(file, "utf8")) as CpuProfile;
  const maps = tsxSourceMaps();
  const distMap = distSourceMaps();
  const byId = new Map<number, ProfileNode>();
  const parent = new Map<number, number>();
  for (const n of prof.nodes) {
    byId.set(n.id, n);
    for (const c of n.children ?? []) parent.set(c, n.id);
  }

  // Location of a node, mapped to the .ts source when tsx transformed it.
  const locCache = new Map<number, { key: string; cat: string; src: boolean }>();
  const locate = (id: number) => {
    let hit = locCache.get(id);
    if (hit) return hit;
    const cf = byId.get(id)!.callFrame;
    const fn = cf.functionName || "(anonymous)";
    let file = cf.url.startsWith("file://") ? fileURLToPath(cf.url.split("?")[0]) : cf.url;
    let line = cf.lineNumber + 1;
    let pos = `${rel(file)}:${line}`;
    const map = maps.get(file) ?? distMap(file);
    if (file.endsWith(".ts") || map) {
      const e = map?.findEntry(cf.lineNumber, cf.columnNumber);
      if (e && "originalLine" in e) {
        line = e.originalLine + 1;
        if (e.originalSource)
          file = e.originalSource.startsWith("file://") ? fileURLToPath(e.originalSource) : e.originalSource;
        pos = `${rel(file)}:${line}`;
      } else pos = `${rel(file)}:?`;
    }
    const cat = category(file, cf.functionName);
    hit = { key: file === "" ? fn : `${fn}  ${pos}`, cat, src: rel(file).startsWith("src/") };
    locCache.set(id, hit);
    return hit;
  };

  const self = new Map<string, number>();
  const cats = new Map<string, number>();
  // Each sample goes to the nearest frame (from the leaf up) in an npm package or src/, so
  // socket writes and native calls count towards whoever made them.
  const owners = new Map<string, number>();
  const ownerOf = (leaf: number): string => {
    for (let cur: number | undefined = leaf; cur !== undefined; cur = parent.get(cur)) {
      const c = locate(cur).cat;
      if (c.startsWith("npm ") || c.startsWith("src/")) return component(c);
    }
    const c = locate(leaf).cat;
    return c.startsWith("node:") || c.startsWith("(native)")
      ? "node internals (timers, microtasks, module loading)"
      : c;
  };
  const inclusive = new Map<string, number>();
  let busy = 0;
  let wall = 0;
  for (let i = 0; i < prof.samples.length; i++) {
    // A sample's time is the gap to the next sample (as DevTools counts it).
    const dt = (i + 1 < prof.timeDeltas.length ? prof.timeDeltas[i + 1] : 0) / 1000;
    wall += dt;
    const id = prof.samples[i];
    const cf = byId.get(id)!.callFrame;
    if (cf.functionName === "(idle)") continue;
    busy += dt;
    const l = locate(id);
    self.set(l.key, (self.get(l.key) ?? 0) + dt);
    cats.set(l.cat, (cats.get(l.cat) ?? 0) + dt);
    const o = ownerOf(id);
    owners.set(o, (owners.get(o) ?? 0) + dt);
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const a = locate(cur);
      if (!a.src || seen.has(a.key)) continue;
      seen.add(a.key);
      inclusive.set(a.key, (inclusive.get(a.key) ?? 0) + dt);
    }
  }

  const pct = (ms: number) => `${((ms * 100) / Math.max(busy, 1e-9)).toFixed(1).padStart(5)}%`;
  const table = (title: string, m: Map<string, number>, n: number) =>
    [
      title,
      ...[...m]
        .sort((a, b) => b[1] - a[1])
        .slice(0, n)
        .map(([k, v]) => `  ${pct(v)}  ${k}`),
    ].join("\n");
  const text = [
    `profile ${path.basename(file)}: ${(wall / 1000).toFixed(1)} s sampled, busy ${(busy / 1000).toFixed(1)} s (${((busy * 100) / Math.max(wall, 1)).toFixed(0)}% of one core); percentages are of busy time`,
    table("time by component (each sample charged to the nearest npm package or src/ frame above it):", owners, top),
    table("self time by where the code lives:", cats, top),
    table("top functions by self time:", self, top),
    table("src/ functions by inclusive time (self + callees):", inclusive, top),
  ].join("\n");
  return { busyMs: busy, wallMs: wall, text };
}

// `npx tsx bench/lib/profile.ts FILE.cpuprofile [rows]` prints the summary of a saved profile.
if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const f = process.argv[2];
  if (!f) {
    console.error("usage: npx tsx bench/lib/profile.ts FILE.cpuprofile [rows]");
    process.exit(2);
  }
  console.log(summariseProfile(f, Number(process.argv[3] ?? 15)).text);
}
