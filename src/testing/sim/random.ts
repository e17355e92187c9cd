/** The simulator's seeded randomness: one stream per purpose, so adding draws in one never shifts another. */
import { deriveSeed, mulberry32 } from "../../raft/index.js"

export interface SimRandom {
  /** Uniform in [0, 1). */
  readonly next: () => number
  /** Uniform integer in [0, n). */
  readonly int: (n: number) => number
  /** An independent stream derived from this one's seed and `salt`. */
  readonly fork: (salt: number) => SimRandom
}

export const simRandom = (seed: number): SimRandom => {
  const next = mulberry32(seed)
  return {
    next,
    int: (n) => Math.floor(next() * n),
    fork: (salt) => simRandom(deriveSeed(seed, salt))
  }
}
