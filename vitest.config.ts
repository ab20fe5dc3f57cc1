import { defineConfig } from "vitest/config";

/**
 * The HA pair tests and the lab drills measure failover against deadlines of a few hundred
 * milliseconds: they run after everything else, one file at a time, so the rest of the suite
 * does not starve their processes of the two cores.
 */
const TIMING = ["test/ha/pair-*.test.ts", "test/e2e/lab.test.ts"];

export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: "forks",
    projects: [
      {
        extends: true,
        test: {
          name: "main",
          include: ["test/**/*.test.ts"],
          exclude: TIMING,
          // Integration tests start real processes; two cores, so keep parallelism modest.
          maxWorkers: 2,
          sequence: { groupOrder: 0 },
        },
      },
      {
        extends: true,
        test: { name: "ha-timing", include: TIMING, maxWorkers: 1, sequence: { groupOrder: 1 } },
      },
    ],
  },
});
