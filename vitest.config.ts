import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    pool: "forks",
    testTimeout: 20_000,
    hookTimeout: 30_000,
    // 2-core machines: a little parallelism, not a stampede on PostgreSQL.
    maxWorkers: 3,
    reporters: ["default", "./test/support/summary-reporter.ts"],
  },
});
