/**
 * How many inputs each fuzz property tries: `FUZZ_RUNS` (default 10,000, what `npm test` runs; the offline run
 * is `FUZZ_RUNS=1000000 npx vitest run test/fuzz`). `FUZZ_SEED` replays the run a failure printed.
 */
export const fuzzRuns = Number(process.env.FUZZ_RUNS ?? 10_000)
const seed = process.env.FUZZ_SEED
export const fuzzParams = { numRuns: fuzzRuns, ...(seed !== undefined ? { seed: Number(seed) } : {}) }

/** A test's timeout for `fuzzRuns` inputs: `ms` is what 10,000 need at most, scaled up for an offline run. */
export const fuzzTimeout = (ms = 30_000): number => Math.round(ms * Math.max(1, fuzzRuns / 10_000))
