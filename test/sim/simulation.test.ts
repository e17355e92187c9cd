/**
 * The deterministic simulation slice of `npm test`, shard 1 (see `simSlice.ts`), and the replay checks: a
 * seed run twice gives the same faults at the same virtual times and the same history, and the same whole
 * result however often the driver lets the event loop turn (a live timer anywhere in the run would fire at
 * a virtual time that depends on that, as the membership helpers' waits did).
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { simulate, sliceOptions } from "../../src/testing/sim/simulate.js"
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

  it.live(
    "a seed's whole result does not depend on how often the driver lets the event loop turn",
    () =>
      Effect.gen(function* () {
        // seed 43 of the slice has conf changes that wait for the scheduler to see them, and a leader transfer
        const often = yield* simulate({ ...sliceOptions, seed: 43, sliceMs: 0 })
        const seldom = yield* simulate({ ...sliceOptions, seed: 43, sliceMs: 10_000 })
        const kinds = new Set(often.faults.map((f) => f.kind))
        assert.isTrue(kinds.has("conf-change"), `fault kinds: ${[...kinds].join(", ")}`)
        assert.deepStrictEqual(seldom, often)
      }),
    600_000
  )
})
