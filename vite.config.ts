/**
 * Builds the browser pages (web/) into dist/public: one HTML entry per page, hashed assets
 * under /assets. The Twilio SDKs are imported lazily by the console, so they land in their
 * own chunks and only live mode loads them. The build fails when a page's initial
 * JavaScript (its entry chunk and every chunk it imports statically) exceeds its budget.
 */
import { fileURLToPath } from "node:url";
import { defineConfig, type Plugin } from "vite";

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));

/** Initial JavaScript per page, minified, in bytes (docs/pages.md, "JavaScript budgets", states the same). */
export const PAGE_BUDGETS: Record<string, number> = {
  console: 80 * 1024,
  demo: 64 * 1024,
  ops: 72 * 1024,
};

/** Sums each entry's static import graph and fails the build over budget. */
function budget(): Plugin {
  return {
    name: "page-budget",
    apply: "build",
    generateBundle(_options, bundle) {
      const sizes: string[] = [];
      for (const chunk of Object.values(bundle)) {
        if (chunk.type !== "chunk" || !chunk.isEntry) continue;
        const seen = new Set<string>();
        const walk = (file: string): number => {
          if (seen.has(file)) return 0;
          seen.add(file);
          const c = bundle[file];
          if (!c || c.type !== "chunk") return 0;
          return Buffer.byteLength(c.code) + c.imports.reduce((n, f) => n + walk(f), 0);
        };
        const size = walk(chunk.fileName);
        const limit = PAGE_BUDGETS[chunk.name];
        sizes.push(`${chunk.name} ${(size / 1024).toFixed(1)} KiB`);
        if (limit === undefined) this.error(`page "${chunk.name}" has no JavaScript budget`);
        if (size > limit) this.error(`page "${chunk.name}": ${size} bytes of initial JavaScript, budget ${limit}`);
      }
      this.info(`initial JavaScript: ${sizes.join(", ")}`);
    },
  };
}

export default defineConfig({
  root: here("./web"),
  base: "/",
  publicDir: false,
  logLevel: "warn",
  build: {
    outDir: here("./dist/public"),
    emptyOutDir: true,
    target: "es2022",
    sourcemap: false,
    // The lazily loaded Twilio chunks are large by nature; the page budgets above are what counts.
    chunkSizeWarningLimit: 2048,
    rolldownOptions: {
      input: {
        console: here("./web/console/index.html"),
        demo: here("./web/demo/index.html"),
        ops: here("./web/ops/index.html"),
      },
    },
  },
  plugins: [budget()],
});
