/**
 * `whenDone` (`src/raftstore/replyCallback.ts`): a callback on a command's reply without a fiber. It must see
 * every way a reply is completed — `Deferred.succeed`, `Deferred.unsafeDone` with an `Exit` (the round's
 * answers) or with a lazily built effect (the command deadlines) — exactly once, and a reply done already at
 * once. With the Effect version this project pins it joins the reply directly: the callback runs inside the
 * completing call, with no fiber or scheduler turn between (the reason it exists).
 */
import { assert, describe, it } from "@effect/vitest"
import { Deferred, Effect, Exit, FiberId } from "effect"
import { joinsDirectly, whenDone, whenDoneByFiber } from "../../src/raftstore/replyCallback.js"
import { eventually } from "../../src/testing/eventually.js"

const fresh = () => Deferred.unsafeMake<string>(FiberId.none)

describe("whenDone", () => {
  it("runs inside the completing call, once, for an Exit or a lazily built effect", () => {
    const seen: Array<string> = []
    const a = fresh()
    assert.isTrue(joinsDirectly(a), "the direct path (no fiber) with this Effect version")
    whenDone(a, (exit) => seen.push(`a:${Exit.isSuccess(exit) ? exit.value : "failed"}`))
    Deferred.unsafeDone(a, Exit.succeed("round"))
    assert.deepStrictEqual(seen, ["a:round"], "synchronously")
    Deferred.unsafeDone(a, Exit.succeed("late"))
    assert.deepStrictEqual(seen, ["a:round"], "a second completion is ignored, as by Deferred")

    const b = fresh()
    let built = 0
    whenDone(b, (exit) => seen.push(`b:${Exit.isSuccess(exit) ? exit.value : "failed"}`))
    Deferred.unsafeDone(
      b,
      Effect.sync(() => {
        built++
        return "deadline"
      })
    )
    assert.deepStrictEqual(seen, ["a:round", "b:deadline"])
    assert.strictEqual(built, 1)
  })

  it.effect("sees Deferred.succeed, and a reply done already at once; other waiters still see it", () =>
    Effect.gen(function* () {
      const seen: Array<string> = []
      const c = fresh()
      whenDone(c, (exit) => seen.push(Exit.isSuccess(exit) ? exit.value : "failed"))
      const waiter = yield* Effect.fork(Deferred.await(c))
      yield* Effect.yieldNow()
      yield* Deferred.succeed(c, "succeeded")
      assert.deepStrictEqual(seen, ["succeeded"])
      assert.strictEqual(yield* waiter.await.pipe(Effect.flatten), "succeeded", "a fiber waiting too is resumed")
      whenDone(c, (exit) => seen.push(`again:${Exit.isSuccess(exit) ? exit.value : "failed"}`))
      assert.deepStrictEqual(seen, ["succeeded", "again:succeeded"], "done already: called at once")
    })
  )

  it.effect("the fallback, a fiber awaiting the reply, sees it too (after a scheduler turn)", () =>
    Effect.gen(function* () {
      const d = fresh()
      const seen: Array<string> = []
      whenDoneByFiber(d, (exit) => seen.push(Exit.isSuccess(exit) ? exit.value : "failed"))
      yield* Effect.yieldNow()
      Deferred.unsafeDone(d, Exit.succeed("via a fiber"))
      yield* eventually(() => seen.length > 0, { timeout: "5 seconds", what: "the fiber's callback" })
      assert.deepStrictEqual(seen, ["via a fiber"])
    })
  )
})
