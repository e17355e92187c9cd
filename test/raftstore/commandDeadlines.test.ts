/**
 * Command deadlines (`src/raftstore/commandDeadlines.ts`): a reply still pending at its deadline is answered
 * with the caller's timeout response, one answered in time keeps its answer, and the one fiber sleeps
 * between deadlines and while nothing is watched. `watchNow` does the same without an Effect.
 */
import { assert, describe, it } from "@effect/vitest"
import { Deferred, Effect, Exit, FiberId, Option, Scope, TestClock } from "effect"
import { ServerIsBusy } from "../../src/protocol/errorpb.js"
import type { RaftCmdResponse } from "../../src/protocol/raftCmd.js"
import { makeCommandDeadlines } from "../../src/raftstore/commandDeadlines.js"
import { whenDone } from "../../src/raftstore/replyCallback.js"
import { errorResponse, okResponse } from "../../src/raftstore/responses.js"

const busy = () => errorResponse(new ServerIsBusy({ reason: "the command did not apply in time" }))
const answerOf = (reply: Deferred.Deferred<RaftCmdResponse>) =>
  Effect.flatMap(Deferred.poll(reply), (o) => (Option.isNone(o) ? Effect.succeed(undefined) : o.value))

describe("command deadlines", () => {
  it.scoped("a pending reply is answered at its deadline; an answered one keeps its answer", () =>
    Effect.gen(function* () {
      const deadlines = yield* makeCommandDeadlines(1_000)
      const slow = yield* Deferred.make<RaftCmdResponse>()
      const fast = yield* Deferred.make<RaftCmdResponse>()
      yield* deadlines.watch(slow, busy)
      yield* deadlines.watch(fast, busy)
      yield* Deferred.done(fast, Exit.succeed(okResponse([], 3)))
      yield* TestClock.adjust("999 millis")
      assert.isUndefined(yield* answerOf(slow), "not before its deadline")
      yield* TestClock.adjust("1 millis")
      assert.strictEqual((yield* answerOf(slow))?.header.error?._tag, "ServerIsBusy")
      assert.strictEqual((yield* answerOf(fast))?.header.currentTerm, 3, "the worker's answer stands")
    })
  )

  it.scoped("watchNow (the fast lane's writes) times a reply the same way, on the deadlines' clock", () =>
    Effect.gen(function* () {
      const deadlines = yield* makeCommandDeadlines(1_000)
      yield* TestClock.adjust("5 seconds")
      const reply = Deferred.unsafeMake<RaftCmdResponse>(FiberId.none)
      const seen: Array<string | undefined> = []
      whenDone(reply, (exit) => seen.push(Exit.isSuccess(exit) ? exit.value.header.error?._tag : "failed"))
      deadlines.watchNow(reply, busy)
      yield* TestClock.adjust("999 millis")
      assert.deepStrictEqual(seen, [], "not before its deadline")
      yield* TestClock.adjust("1 millis")
      assert.deepStrictEqual(seen, ["ServerIsBusy"], "its callback sees the timeout answer")
    })
  )

  it.scoped("later commands get their own deadlines, checked at most every timeout / 20", () =>
    Effect.gen(function* () {
      const deadlines = yield* makeCommandDeadlines(1_000)
      const first = yield* Deferred.make<RaftCmdResponse>()
      yield* deadlines.watch(first, busy)
      yield* TestClock.adjust("10 millis")
      const second = yield* Deferred.make<RaftCmdResponse>()
      yield* deadlines.watch(second, busy)
      yield* TestClock.adjust("990 millis")
      assert.isDefined(yield* answerOf(first))
      assert.isUndefined(yield* answerOf(second), "its deadline is 10 ms later")
      // the next check is one check interval (50 ms) after the first deadline: late, never early
      yield* TestClock.adjust("10 millis")
      assert.isUndefined(yield* answerOf(second))
      yield* TestClock.adjust("40 millis")
      assert.strictEqual((yield* answerOf(second))?.header.error?._tag, "ServerIsBusy")
      // idle again: a command watched much later is answered at its own deadline
      yield* TestClock.adjust("1 hour")
      const third = yield* Deferred.make<RaftCmdResponse>()
      yield* deadlines.watch(third, busy)
      yield* TestClock.adjust("999 millis")
      assert.isUndefined(yield* answerOf(third))
      yield* TestClock.adjust("1 millis")
      assert.isDefined(yield* answerOf(third))
    })
  )

  it.effect("made in an uninterruptible region (as a shared layer is), its fiber still ends with the scope", () =>
    Effect.gen(function* () {
      const scope = yield* Scope.make()
      const reply = yield* Deferred.make<RaftCmdResponse>()
      // a fiber forked there inherits uninterruptibility: unless made interruptible, closing the scope waits for ever
      const deadlines = yield* Effect.uninterruptible(Scope.extend(makeCommandDeadlines(1_000), scope))
      yield* deadlines.watch(reply, busy)
      yield* TestClock.adjust("10 millis")
      const closed = yield* Effect.fork(Scope.close(scope, Exit.void))
      yield* TestClock.adjust("10 millis")
      assert.isNotNull(closed.unsafePoll(), "the scope closed")
    })
  )
})
