import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // Type tests (`*.test-d.ts`): checked by tsc, never executed; they fail on protocol drift.
    typecheck: { enabled: true, include: ["test/**/*.test-d.ts"] },
    pool: "forks",
    testTimeout: 20_000,
    hookTimeout: 30_000,
    // 2-core machines: a little parallelism, not a stampede on PostgreSQL.
    maxWorkers: 3,
    reporters: ["default", "./test/support/summary-reporter.ts"],
  },
});
