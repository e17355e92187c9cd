import { defineConfig } from "vitest/config"

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // 2-core CI box: two workers keep wall time low without starving the servers the tests spawn
    maxWorkers: 2,
    minWorkers: 1
  }
})
