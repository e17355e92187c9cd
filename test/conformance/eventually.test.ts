/** The `eventually` helper of `tinykv/testing`: passes on the first passing try, retries, names what timed out. */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Fiber, Ref, TestClock } from "effect"
import { EventuallyTimeout, eventually } from "../../src/testing/eventually.js"

describe("eventually", () => {
  it.live("retries a predicate until it holds and returns the passing value", () =>
    Effect.gen(function* () {
      let n = 0
      const got = yield* eventually(() => (++n >= 3 ? `try ${n}` : false), { interval: "1 millis" })
      assert.strictEqual(got, "try 3")
    })
  )

  it.live("an Effect check is retried while it fails or an assertion in it throws", () =>
    Effect.gen(function* () {
      const tries = yield* Ref.make(0)
      yield* eventually(
        Effect.gen(function* () {
          const n = yield* Ref.updateAndGet(tries, (x) => x + 1)
          if (n === 1) return yield* Effect.fail("not yet")
          assert.isAtLeast(n, 3)
        }),
        { interval: "1 millis" }
      )
      assert.strictEqual(yield* Ref.get(tries), 3)
    })
  )

  it.live("on the deadline it fails with EventuallyTimeout naming what was awaited and the last reason", () =>
    Effect.gen(function* () {
      const e = yield* Effect.flip(
        eventually(
          Effect.sync(() => assert.strictEqual(1, 2, "one is two")),
          { what: "one to be two", timeout: "50 millis", interval: "5 millis" }
        )
      )
      assert.instanceOf(e, EventuallyTimeout)
      assert.match(e.message, /one to be two/)
      assert.match(e.message, /one is two/)
    })
  )

  it.live("a check that hangs is cut off at the deadline", () =>
    Effect.gen(function* () {
      const e = yield* Effect.flip(eventually(Effect.never, { what: "never", timeout: "30 millis" }))
      assert.instanceOf(e, EventuallyTimeout)
    })
  )

  it.effect("polls on the live clock under TestClock, while the check sees the test's clock", () =>
    Effect.gen(function* () {
      yield* TestClock.setTime(1_000)
      const flag = yield* Ref.make(false)
      const waiting = yield* Effect.fork(
        eventually(
          Effect.zipRight(
            Effect.flatMap(Ref.get(flag), (f) => (f ? Effect.void : Effect.fail("no"))),
            Effect.clockWith((c) => c.currentTimeMillis)
          ),
          {
            interval: "1 millis"
          }
        )
      )
      yield* Ref.set(flag, true)
      assert.strictEqual(yield* Fiber.join(waiting), 1_000)
    })
  )
})
