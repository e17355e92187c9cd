/** Per-key latches (TinyKV `latches_test.go`, plus waiting, interruption and deadlock freedom). */
import { assert, describe, it } from "@effect/vitest"
import { Deferred, Effect, Fiber, Ref } from "effect"
import { Latches, makeLatches } from "../../src/transaction/latches.js"
import { bytes } from "./harness.js"

describe("Latches", () => {
  it("TestAcquireLatches", () => {
    const l = new Latches()
    // acquiring new latches is ok
    const first = l.tryAcquire([bytes([]), bytes([3]), bytes([3, 0, 42])])
    assert.isTrue("acquired" in first)
    // each can only be held once
    assert.isTrue("blocker" in l.tryAcquire([bytes([])]))
    assert.isTrue("blocker" in l.tryAcquire([bytes([3, 0, 42])]))
    // an all-or-nothing failure takes nothing: [7] stays free
    assert.isTrue("blocker" in l.tryAcquire([bytes([7]), bytes([3])]))
    assert.isFalse(l.isHeld(bytes([7])))
    // release then acquire is ok
    if ("acquired" in first) Effect.runSync(l.release(first.acquired))
    assert.isTrue("acquired" in l.tryAcquire([bytes([3])]))
    assert.isTrue("blocker" in l.tryAcquire([bytes([3])]))
    assert.isTrue("acquired" in l.tryAcquire([bytes([3, 0, 42])]))
  })

  it("duplicate keys in one request latch once", () => {
    const l = new Latches()
    const r = l.tryAcquire([bytes([1]), bytes([1]), bytes([2])])
    assert.isTrue("acquired" in r)
    if ("acquired" in r) assert.strictEqual(r.acquired.keys.length, 2)
  })

  it.effect("a command waits for the holder and runs after it", () =>
    Effect.gen(function* () {
      const l = yield* makeLatches
      const log = yield* Ref.make<Array<string>>([])
      const inside = yield* Deferred.make<void>()
      const go = yield* Deferred.make<void>()
      const first = yield* Effect.fork(
        l.withLatches(
          [bytes([1]), bytes([2])],
          Effect.gen(function* () {
            yield* Deferred.succeed(inside, undefined)
            yield* Deferred.await(go)
            yield* Ref.update(log, (xs) => [...xs, "first"])
          })
        )
      )
      yield* Deferred.await(inside)
      const second = yield* Effect.fork(
        l.withLatches(
          [bytes([2])],
          Ref.update(log, (xs) => [...xs, "second"])
        )
      )
      // an unrelated key is not blocked
      yield* l.withLatches(
        [bytes([3])],
        Ref.update(log, (xs) => [...xs, "other"])
      )
      yield* Effect.yieldNow()
      assert.deepStrictEqual(yield* Ref.get(log), ["other"])
      yield* Deferred.succeed(go, undefined)
      yield* Fiber.join(first)
      yield* Fiber.join(second)
      assert.deepStrictEqual(yield* Ref.get(log), ["other", "first", "second"])
      assert.isFalse(l.isHeld(bytes([1])) || l.isHeld(bytes([2])))
    })
  )

  it.effect("latches are released when the command fails or is interrupted", () =>
    Effect.gen(function* () {
      const l = yield* makeLatches
      const failed = yield* Effect.exit(l.withLatches([bytes([1])], Effect.fail("boom")))
      assert.strictEqual(failed._tag, "Failure")
      assert.isFalse(l.isHeld(bytes([1])))

      const holder = yield* Effect.fork(l.withLatches([bytes([1])], Effect.never))
      yield* Effect.yieldNow()
      assert.isTrue(l.isHeld(bytes([1])))
      // a waiter can be interrupted while it waits, leaving nothing behind
      const waiter = yield* Effect.fork(l.withLatches([bytes([1]), bytes([2])], Effect.void))
      yield* Effect.yieldNow()
      yield* Fiber.interrupt(waiter)
      assert.isFalse(l.isHeld(bytes([2])))
      yield* Fiber.interrupt(holder)
      assert.isFalse(l.isHeld(bytes([1])))
    })
  )

  it.effect("opposite key orders never deadlock", () =>
    Effect.gen(function* () {
      const l = yield* makeLatches
      const counter = yield* Ref.make(0)
      const keys = [bytes([1]), bytes([2]), bytes([3])]
      const job = (i: number) =>
        l.withLatches(
          i % 2 === 0 ? keys : [...keys].reverse(),
          Effect.gen(function* () {
            const before = yield* Ref.get(counter)
            // holds the latches across a yield: overlapping jobs would interleave here and lose an update
            yield* Effect.yieldNow()
            yield* Ref.set(counter, before + 1) // a lost update would show if two ran at once
          })
        )
      const all = yield* Effect.fork(
        Effect.forEach(
          Array.from({ length: 50 }, (_, i) => i),
          job,
          { concurrency: 50 }
        )
      )
      yield* Fiber.join(all)
      assert.strictEqual(yield* Ref.get(counter), 50)
    })
  )
})
