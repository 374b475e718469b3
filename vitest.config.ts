import { availableParallelism } from "node:os";
import { configDefaults, defineConfig } from "vitest/config";

// `npm test`: every suite but the slow ones (`*.integration.test.ts`: a real nats-server,
// multi-second fault and reliability runs), which `npm run test:integration` runs
// (vitest.integration.config.ts).
export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    exclude: [...configDefaults.exclude, "test/**/*.integration.test.ts"],
    testTimeout: 20_000,
    hookTimeout: 20_000,
    pool: "forks",
    // Vitest's default is one worker per core less one: a single worker on 2 cores, where most
    // suites wait on sockets, timers and child processes rather than compute.
    maxWorkers: Math.max(2, availableParallelism() - 1),
  },
});
