/**
 * The deterministic simulation slice of `npm test`, shard 1 (see `simSlice.ts`), and the replay check: a
 * seed run twice gives the same faults at the same virtual times and the same history.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { simulate } from "../../src/testing/sim/simulate.js"
import { describeShard } from "./simSlice.js"

describeShard(1)

describe("deterministic simulation", () => {
  it.live(
    "a seed replays exactly: the same faults at the same virtual times, the same history",
    () =>
      Effect.gen(function* () {
        const a = yield* simulate({ seed: 7 })
        const b = yield* simulate({ seed: 7 })
        assert.deepStrictEqual(b.faults, a.faults)
        assert.strictEqual(b.virtualMs, a.virtualMs)
        assert.strictEqual(b.operations, a.operations)
        assert.strictEqual(b.indefinite, a.indefinite)
        assert.isAbove(a.faults.length, 0)
      }),
    600_000
  )
})
