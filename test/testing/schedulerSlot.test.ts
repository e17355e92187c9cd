/**
 * The restartable scheduler of a TestCluster (and of the simulator's nemesis): a restart is a crash of the
 * scheduler's process. What it synced survives (ids and timestamps keep rising), and a call the old
 * instance had not answered fails as `SchedulerUnavailable` without its write reaching the engine.
 */
import { assert, describe, it } from "@effect/vitest"
import { Deferred, Effect, Exit, Fiber } from "effect"
import { SchedulerSlot } from "../../src/testing/schedulerSlot.js"
import type { StorageError } from "../../src/protocol/errorpb.js"
import type { DiskFull } from "../../src/protocol/errorpb.js"
import { Storage } from "../../src/services/Storage.js"

describe("SchedulerSlot", () => {
  it.effect("ids and timestamps handed out before a restart are never handed out again", () =>
    Effect.gen(function* () {
      const slot = yield* SchedulerSlot.make()
      const client = slot.client()
      const id = yield* client.allocId
      const ts = yield* client.tso(5)
      yield* slot.restart
      assert.strictEqual(slot.restarts, 1)
      assert.isAbove(yield* client.allocId, id)
      assert.isTrue((yield* client.tso(1)) > ts, "a timestamp after the restart is above every earlier one")
    })
  )

  it.effect("a call in flight across a restart fails as unavailable, and the old instance writes nothing", () =>
    Effect.gen(function* () {
      let armed = false
      const entered = yield* Deferred.make<void>()
      const release = yield* Deferred.make<void>()
      const heldWrites: Array<Exit.Exit<void, StorageError | DiskFull>> = []
      const slot = yield* SchedulerSlot.make({
        wrapStorage: (storage) =>
          Storage.of({
            ...storage,
            write: (ops, options) => {
              if (!armed) return storage.write(ops, options)
              armed = false
              return Deferred.succeed(entered, undefined).pipe(
                Effect.zipRight(Deferred.await(release)),
                Effect.zipRight(Effect.exit(storage.write(ops, options))),
                Effect.tap((exit) => Effect.sync(() => void heldWrites.push(exit))),
                Effect.flatten
              )
            }
          })
      })
      const client = slot.client()
      armed = true
      // the first id needs a synced write of the allocator's batch: that write is held
      const call = yield* Effect.fork(client.allocId)
      yield* Deferred.await(entered)
      yield* slot.restart
      yield* Deferred.succeed(release, undefined)
      const outcome = yield* Fiber.await(call)

      assert.isTrue(Exit.isFailure(outcome))
      if (Exit.isFailure(outcome)) {
        const error = outcome.cause._tag === "Fail" ? outcome.cause.error : undefined
        assert.strictEqual(error?._tag, "SchedulerUnavailable")
      }
      assert.strictEqual(heldWrites.length, 1)
      assert.isTrue(Exit.isFailure(heldWrites[0]!), "the restarted instance's write was refused")
      // the new instance answers
      assert.isAbove(yield* client.allocId, 0)
    })
  )
})
