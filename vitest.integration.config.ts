import { defineConfig } from "vitest/config";

// `npm run test:integration`: the slow suites that `npm test` leaves out.
export default defineConfig({
  test: {
    include: ["test/**/*.integration.test.ts"],
    testTimeout: 20_000,
    hookTimeout: 20_000,
    pool: "forks",
  },
});
