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

  it.effect("a step handed off keeps the latches until it ends, though its caller is interrupted", () =>
    Effect.gen(function* () {
      const l = yield* makeLatches
      const answered = yield* Deferred.make<string>()
      const caller = yield* Effect.fork(
        l.withLatchesHandingOff([bytes([1])], (handOff) => handOff(Deferred.await(answered)))
      )
      yield* Effect.yieldNow()
      assert.isTrue(l.isHeld(bytes([1])))
      // the caller gives up (its client went away): the step, a write still in the log, goes on
      yield* Fiber.interrupt(caller)
      assert.isTrue(l.isHeld(bytes([1])), "still latched while the step waits")
      const next = yield* Effect.fork(l.withLatches([bytes([1])], Effect.succeed("next")))
      yield* Effect.yieldNow()
      assert.isUndefined(yield* Effect.map(Fiber.poll(next), (o) => (o._tag === "Some" ? o : undefined)))
      yield* Deferred.succeed(answered, "applied")
      assert.strictEqual(yield* Fiber.join(next), "next")
      assert.isFalse(l.isHeld(bytes([1])))
    })
  )

  it.effect("without a hand-off, or when the step fails, the latches go as withLatches's do", () =>
    Effect.gen(function* () {
      const l = yield* makeLatches
      assert.strictEqual(yield* l.withLatchesHandingOff([bytes([1])], () => Effect.succeed(1)), 1)
      assert.isFalse(l.isHeld(bytes([1])))
      const failed = yield* Effect.exit(l.withLatchesHandingOff([bytes([1])], (handOff) => handOff(Effect.fail("no"))))
      assert.strictEqual(failed._tag, "Failure")
      assert.isFalse(l.isHeld(bytes([1])))
      const interrupted = yield* Effect.fork(l.withLatchesHandingOff([bytes([2])], () => Effect.never))
      yield* Effect.yieldNow()
      yield* Fiber.interrupt(interrupted)
      assert.isFalse(l.isHeld(bytes([2])))
    })
  )
})
