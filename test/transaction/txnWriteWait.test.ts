/**
 * A transaction's write over raft is waited for until the raftstore answers it, not until the command deadline:
 * its handler holds the keys' latches meanwhile, and a command decided while the entry could still apply would
 * not see it. The simulator's seed 40186 (`--raft-log`) showed what a deadline allowed: a prewrite's write timed
 * out with its entry still in the log, its latch let go, a rollback was decided without its lock, and the lock
 * was written after the rollback. A raw write keeps the deadline (nothing is decided from what it leaves).
 */
import { assert, describe, it } from "@effect/vitest"
import { Context, Deferred, Effect, Either, Fiber, Layer, TestClock } from "effect"
import { layerKvStorageRaft } from "../../src/layers/kvStorageRaft.js"
import { utf8 } from "../../src/protocol/bytes.js"
import type { PeerId, RegionId, StoreId } from "../../src/protocol/ids.js"
import type { RaftCmdResponse } from "../../src/protocol/raftCmd.js"
import { okResponse } from "../../src/raftstore/responses.js"
import { KvStorage } from "../../src/services/KvStorage.js"
import { Router } from "../../src/services/Router.js"

const TIMEOUT_MS = 2_000
const context = {
  regionId: 1 as RegionId,
  regionEpoch: { confVer: 1, version: 1 },
  peer: { id: 1 as PeerId, storeId: 1 as StoreId }
}

/** A Router whose raftstore answers nothing until the test does: the replies it was sent, in order. */
const silentRouter = (replies: Array<Deferred.Deferred<RaftCmdResponse>>) =>
  ({
    sendCommand: (_request, watch) =>
      Effect.gen(function* () {
        const reply = yield* Deferred.make<RaftCmdResponse>()
        replies.push(reply)
        if (watch !== undefined) yield* watch(reply)
        return yield* Deferred.await(reply)
      })
  }) as Partial<Router["Type"]> as Router["Type"]

/** Moves the test clock past three deadlines in steps, so the deadlines' fiber wakes at each of its checks. */
const pastDeadlines = Effect.gen(function* () {
  for (let i = 0; i < 60; i++) {
    yield* Effect.yieldNow()
    yield* TestClock.adjust(TIMEOUT_MS / 20)
  }
})

/** The storage, open (its deadlines' fiber running) until the test's scope closes. */
const storageOver = (replies: Array<Deferred.Deferred<RaftCmdResponse>>) =>
  Effect.map(
    Layer.build(
      layerKvStorageRaft({ commandTimeoutMs: TIMEOUT_MS }).pipe(
        Layer.provide(Layer.succeed(Router, silentRouter(replies)))
      )
    ),
    Context.get(KvStorage)
  )

describe("KvStorage over raft: how long a write is waited for", () => {
  it.scoped("a transaction's write outlives the command deadline, until the raftstore answers it", () =>
    Effect.gen(function* () {
      const replies: Array<Deferred.Deferred<RaftCmdResponse>> = []
      const storage = yield* storageOver(replies)
      const write = yield* Effect.fork(
        storage.write(context, "txn", [{ _tag: "Put", cf: "lock", key: utf8("k"), value: utf8("l") }])
      )
      yield* pastDeadlines
      assert.isUndefined(yield* Fiber.poll(write).pipe(Effect.map((o) => (o._tag === "Some" ? o : undefined))))
      yield* Deferred.succeed(replies[0]!, okResponse([], 6))
      assert.isTrue(Either.isRight(yield* Effect.either(Fiber.join(write))))
    })
  )

  it.scoped("a raw write is answered at the deadline, its outcome unknown", () =>
    Effect.gen(function* () {
      const replies: Array<Deferred.Deferred<RaftCmdResponse>> = []
      const storage = yield* storageOver(replies)
      const write = yield* Effect.fork(
        storage.write(context, "raw", [{ _tag: "Put", cf: "default", key: utf8("k"), value: utf8("v") }])
      )
      yield* pastDeadlines
      const result = yield* Effect.either(Fiber.join(write))
      assert.isTrue(Either.isLeft(result))
      const error = Either.isLeft(result) ? result.left : undefined
      assert.strictEqual(error?._tag, "ServerIsBusy")
      assert.isTrue((error as { outcomeUnknown?: boolean }).outcomeUnknown)
    })
  )
})
