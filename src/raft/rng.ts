/**
 * Seeded pseudo-random numbers for the Raft core.
 *
 * The core never calls `Math.random`: the only randomness Raft needs is the election-timeout jitter
 * (Raft paper §5.2, "randomized election timeouts"), and it comes from `Config.rng`. Tests and the randomized
 * safety suite pass a seeded generator so a whole run replays bit for bit from one seed (etcd's global,
 * mutex-guarded RNG is the thing we avoid).
 */

/** A source of uniformly distributed numbers in `[0, 1)`. */
export type Rng = () => number

/**
 * mulberry32: a tiny 32-bit PRNG with a full 2^32 period, good enough for jitter and for test schedules
 * (not for cryptography). Equal seeds give equal sequences.
 */
export const mulberry32 = (seed: number): Rng => {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** A uniformly distributed integer in `[lo, hi)` drawn from `rng`. */
export const randomInt = (rng: Rng, lo: number, hi: number): number => lo + Math.floor(rng() * (hi - lo))

/**
 * Derives a well-mixed 32-bit seed from a seed and a stream number (splitmix-style finalizer), so that
 * e.g. node 2 of schedule 17 gets a generator unrelated to node 3 of schedule 17 or node 2 of schedule 18.
 */
export const deriveSeed = (seed: number, stream: number): number => {
  let z = (Math.imul(seed >>> 0, 0x9e3779b1) + Math.imul(stream >>> 0, 0x85ebca6b) + 0x27d4eb2f) >>> 0
  z = Math.imul(z ^ (z >>> 16), 0x7feb352d) >>> 0
  z = Math.imul(z ^ (z >>> 15), 0x846ca68b) >>> 0
  return (z ^ (z >>> 16)) >>> 0
}
