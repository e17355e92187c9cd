/** The local TSO: `physical << 18 | logical`, strictly increasing, following the Effect clock. */
import { assert, describe, it } from "@effect/vitest"
import { Effect, TestClock } from "effect"
import { makeLocalTso, nextTimestamp } from "../../src/transaction/localTso.js"
import { physicalTime } from "../../src/services/Tso.js"

describe("localTso", () => {
  it("nextTimestamp follows the clock, ticks logically within a millisecond, never goes back", () => {
    assert.strictEqual(nextTimestamp(0n, 0), 1n)
    assert.strictEqual(nextTimestamp(0n, 5), 5n << 18n)
    assert.strictEqual(nextTimestamp(5n << 18n, 5), (5n << 18n) + 1n)
    // the clock stepped back: still increasing
    assert.strictEqual(nextTimestamp(7n << 18n, 3), (7n << 18n) + 1n)
    // a batch returns its last timestamp
    assert.strictEqual(nextTimestamp(5n << 18n, 5, 10), (5n << 18n) + 10n)
    // overflowing the logical bits carries into physical
    assert.strictEqual(physicalTime(nextTimestamp((5n << 18n) + (1n << 18n) - 1n, 5)), 6n)
  })

  it.effect("makeLocalTso hands out strictly increasing timestamps on the Effect clock", () =>
    Effect.gen(function* () {
      const tso = yield* makeLocalTso
      yield* TestClock.setTime(1_000)
      const a = yield* tso.next
      const b = yield* tso.next
      assert.strictEqual(physicalTime(a), 1000n)
      assert.isTrue(b > a)
      const c = yield* tso.batch(5)
      assert.strictEqual(c, b + 5n)
      yield* TestClock.adjust("2 millis")
      const d = yield* tso.next
      assert.strictEqual(d, 1002n << 18n)
    })
  )
})
