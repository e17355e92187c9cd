/**
 * The deterministic simulation slice of `npm test`: whole clusters under a seeded nemesis, every history
 * checked for linearizability. `SIM_SEEDS` sets how many seeds (default below); a failure names the seed and
 * the command that replays it exactly (`npm run sim -- --seed N`).
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { replayCommand, simulate } from "../../src/testing/sim/simulate.js"

const SEEDS = Number(process.env.SIM_SEEDS ?? 24)
const BLOCK = 6

describe("deterministic simulation", () => {
  for (let start = 1; start <= SEEDS; start += BLOCK) {
    const seeds = Array.from({ length: Math.min(BLOCK, SEEDS - start + 1) }, (_, i) => start + i)
    it.live(
      `seeds ${seeds[0]}..${seeds[seeds.length - 1]}: linearizable, nothing acknowledged lost, every key readable after healing`,
      () =>
        Effect.gen(function* () {
          for (const seed of seeds) {
            const r = yield* simulate({ seed })
            const where = `seed ${seed} (replay: ${replayCommand(seed)})`
            assert.strictEqual(r.verdict, "Ok", `${where}: ${r.report ?? ""}`)
            assert.strictEqual(r.unreadKeys, 0, `${where}: keys unreadable after healing`)
            assert.isAbove(r.operations, 0, where)
          }
        }),
      600_000
    )
  }

  it.live(
    "a seed replays exactly: the same faults at the same virtual times, the same history",
    () =>
      Effect.gen(function* () {
        const a = yield* simulate({ seed: 7 })
        const b = yield* simulate({ seed: 7 })
        assert.deepStrictEqual(b.faults, a.faults)
        assert.strictEqual(b.virtualMs, a.virtualMs)
        assert.strictEqual(b.operations, a.operations)
      }),
    600_000
  )
})
