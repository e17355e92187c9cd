/**
 * Shared definition of the randomized safety suite, split into shards so vitest runs them in parallel workers
 * (one test file per shard).
 *
 * - `RAFT_SCHEDULES=<n>` (default 1000): schedules in total, over all shards; seeds are 1..n.
 * - `RAFT_STEPS=<n>` (default 4000): chaos steps per schedule (then a heal-and-converge phase).
 * - `RAFT_SEED=<seed>`: replay exactly that schedule (printed by any failure), nothing else.
 */
import { assert, describe, it } from "@effect/vitest"
import { runSchedule, type ScheduleStats } from "./sim.js"

export const SHARDS = 2

const envInt = (name: string, fallback: number): number => {
  const v = process.env[name]
  if (v === undefined || v === "") return fallback
  const n = Number(v)
  if (!Number.isSafeInteger(n) || n < 0) throw new Error(`${name} must be a non-negative integer, got ${v}`)
  return n
}

export const defineSafetySuite = (shard: number): void => {
  const steps = envInt("RAFT_STEPS", 4000)
  const replay = process.env.RAFT_SEED
  describe(`raft randomized safety, shard ${shard + 1}/${SHARDS}`, () => {
    if (replay !== undefined && replay !== "") {
      const seed = envInt("RAFT_SEED", 0)
      it(`replays schedule RAFT_SEED=${seed}`, () => {
        const stats = runSchedule(seed, steps)
        assert.strictEqual(stats.seed, seed)
        assert.isAbove(stats.finalRounds, 0)
      })
      return
    }
    const total = envInt("RAFT_SCHEDULES", 1000)
    const seeds: number[] = []
    for (let s = 1 + shard; s <= total; s += SHARDS) seeds.push(s)
    // Blocks keep each test short and make long runs report progress block by block.
    const blockSize = total <= 4000 ? 100 : 1000
    for (let b = 0; b < seeds.length; b += blockSize) {
      const block = seeds.slice(b, b + blockSize)
      it(`schedules with seeds ${block[0]}..${block[block.length - 1]} (${block.length}, ${steps} steps each) keep every safety property`, async () => {
        const totals = { committed: 0, elections: 0, snapshots: 0, restarts: 0, confChanges: 0, reads: 0 }
        for (const [k, seed] of block.entries()) {
          // Yield to the event loop now and then: a worker that only runs synchronous code starves its RPC channel
          // to the vitest main process ("Timeout calling onTaskUpdate") on long runs.
          if (k % 20 === 19) await new Promise((resolve) => setImmediate(resolve))
          const st: ScheduleStats = runSchedule(seed, steps)
          totals.committed += st.committed
          totals.elections += st.elections
          totals.snapshots += st.snapshotsSent
          totals.restarts += st.restarts
          totals.confChanges += st.confChanges
          totals.reads += st.readsServed
        }
        // The schedules must actually exercise the protocol, not idle.
        assert.isAbove(totals.committed, block.length * 5)
        assert.isAbove(totals.elections, block.length)
        assert.isAbove(totals.reads, block.length, "linearizable reads were served")
        if (block.length >= 50) {
          assert.isAbove(totals.snapshots, 0)
          assert.isAbove(totals.restarts, 0)
          assert.isAbove(totals.confChanges, 0)
        }
      }, 3_600_000)
    }
  })
}
