/**
 * The deterministic simulation slice of `npm test`, in shards: `SIM_SEEDS` seeds (default 200) split into
 * `SHARDS` contiguous ranges, one test file per range, so vitest runs them on every worker. Each seed runs
 * with `sliceOptions` (fewer operations, denser faults), the even ones with a raft log of its own; a failure
 * names the seed and the command that replays it exactly.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { replayCommand, simulate, sliceOptions } from "../../src/testing/sim/simulate.js"

export const SHARDS = 4
const SEEDS = Number(process.env.SIM_SEEDS ?? 200)
/** Seeds per test case: a case stays well under its timeout on a loaded machine. */
const BLOCK = 10

/** The seeds of shard `shard` (1-based). */
export const shardSeeds = (shard: number): Array<number> => {
  const per = Math.ceil(SEEDS / SHARDS)
  const first = (shard - 1) * per + 1
  const last = Math.min(SEEDS, shard * per)
  return Array.from({ length: Math.max(0, last - first + 1) }, (_, i) => first + i)
}

/** Registers the test cases of shard `shard`. */
export const describeShard = (shard: number) =>
  describe(`deterministic simulation, shard ${shard} of ${SHARDS}`, () => {
    const seeds = shardSeeds(shard)
    for (let i = 0; i < seeds.length; i += BLOCK) {
      const block = seeds.slice(i, i + BLOCK)
      it.live(
        `seeds ${block[0]}..${block[block.length - 1]}: linearizable, nothing acknowledged lost, Raft invariants, bank total, all readable after healing`,
        () =>
          Effect.gen(function* () {
            for (const seed of block) {
              // every other seed with a raft log of its own (the server's default), the others on the engine's
              const options = { ...sliceOptions, raftLog: seed % 2 === 0 }
              const r = yield* simulate({ ...options, seed })
              const where = `seed ${seed} (replay: ${replayCommand(seed, options)})`
              assert.strictEqual(r.verdict, "Ok", `${where}: ${r.report ?? ""}`)
              assert.strictEqual(r.unreadKeys, 0, `${where}: keys unreadable after healing`)
              assert.isFalse(r.finalAuditFailed, `${where}: the audit after healing failed`)
              assert.isAbove(r.raftEntries, 0, where)
              assert.isAbove(r.operations, 0, where)
            }
          }),
        600_000
      )
    }
  })
