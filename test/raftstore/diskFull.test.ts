/**
 * A store whose disk fills (a memory engine with a byte quota, `TestCluster.setDiskQuota`): client writes
 * it would lead are refused with `DiskFull` naming it, reads go on, a full follower stops taking log
 * entries while the others commit without it, a round whose write finds no room at all waits instead of
 * killing the raft worker, nothing acknowledged is lost, and writes resume once space is freed — no
 * restart. See docs/OPERATIONS.md "Disk full".
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit, Fiber, Option } from "effect"
import { describeError } from "../../src/client/errors.js"
import { TinyKvClient } from "../../src/index.js"
import { utf8 } from "../../src/protocol/bytes.js"
import type { StoreId } from "../../src/protocol/ids.js"
import { TestCluster } from "../../src/testing/index.js"
import { eventually } from "../../src/testing/eventually.js"

const text = (v: Uint8Array | undefined) => (v === undefined ? undefined : new TextDecoder().decode(v))

/** A quota that leaves the store `room` bytes, all of them its reserve: full for clients at once. */
const fillUp = (cluster: TestCluster, id: StoreId, room = 4096) =>
  cluster.setDiskQuota(id, cluster.memoryEngine(id).usedBytes + room, room)

const leaderStore = (cluster: TestCluster) =>
  Effect.gen(function* () {
    const { region } = yield* cluster.getRegion(utf8("a"))
    yield* eventually(() => cluster.leaderOf(region.id) !== undefined, { what: "a leader" })
    return cluster.leaderOf(region.id)!.storeId
  })

describe("disk full", () => {
  it.live("a full follower: writes commit through the others, and it catches up once space is freed", () =>
    Effect.gen(function* () {
      const cluster = yield* TestCluster.make({ stores: 3 })
      yield* cluster.start
      yield* Effect.gen(function* () {
        const kv = yield* TinyKvClient
        yield* kv.rawPut("a", "1")
        const leader = yield* leaderStore(cluster)
        const follower = cluster.storeIds.find((id) => id !== leader)!
        yield* fillUp(cluster, follower)
        for (let i = 0; i < 20; i++) yield* kv.rawPut(`k${i}`, `v${i}`)
        for (let i = 0; i < 20; i++) assert.strictEqual(text(yield* kv.rawGet(`k${i}`)), `v${i}`)
        // the full follower took none of it (it drops appends), yet stays up
        assert.isUndefined(yield* cluster.engineGet(follower, "k19"))
        assert.isFalse(cluster.store(follower)!.isClosed())
        yield* cluster.setDiskQuota(follower, undefined)
        for (let i = 0; i < 20; i++) yield* cluster.mustEngineHave(follower, `k${i}`, `v${i}`)
      }).pipe(Effect.provide(cluster.clientLayer()))
    }).pipe(Effect.scoped)
  )

  it.live(
    "a full leader refuses writes with DiskFull naming it, serves reads and deletes, and writes again once freed",
    () =>
      Effect.gen(function* () {
        const cluster = yield* TestCluster.make({ stores: 3 })
        yield* cluster.start
        yield* Effect.gen(function* () {
          const kv = yield* TinyKvClient
          yield* kv.rawPut("a", "1")
          yield* kv.rawPut("gone", "x")
          const leader = yield* leaderStore(cluster)
          yield* fillUp(cluster, leader)
          const refused = yield* Effect.flip(kv.rawPut("b", "2"))
          assert.strictEqual(refused._tag, "DiskFull")
          assert.strictEqual(refused._tag === "DiskFull" ? refused.storeId : undefined, leader)
          assert.match(describeError(refused), new RegExp(`^store ${leader} is out of disk space .*reads still work$`))
          const txn = yield* Effect.flip(
            kv.transact((t) => t.set(utf8("t"), utf8("1")), { retries: 0 }) as Effect.Effect<void, { _tag: string }>
          )
          assert.strictEqual(txn._tag, "DiskFull", `a transactional write is refused too: ${describeError(txn)}`)
          assert.strictEqual(text(yield* kv.rawGet("a")), "1")
          yield* kv.rawDelete("gone") // deleting gives room back: let through
          assert.isUndefined(yield* kv.rawGet("gone"))
          assert.isFalse(cluster.store(leader)!.isClosed())
          yield* cluster.setDiskQuota(leader, undefined)
          yield* kv.rawPut("b", "2")
          yield* kv.transact((t) => t.set(utf8("t"), utf8("1")))
          assert.strictEqual(text(yield* kv.rawGet("b")), "2")
          for (const id of cluster.storeIds) yield* cluster.mustEngineHave(id, "b", "2")
        }).pipe(Effect.provide(cluster.clientLayer()))
      }).pipe(Effect.scoped)
  )

  it.live("a round whose write finds no room waits for space instead of failing, and loses nothing", () =>
    Effect.gen(function* () {
      const cluster = yield* TestCluster.make({ stores: 1, modelSync: true })
      yield* cluster.start
      const [id] = cluster.storeIds as [StoreId]
      yield* Effect.gen(function* () {
        const kv = yield* TinyKvClient
        yield* kv.rawPut("a", "1")
        // no reserve, and less room than the write needs: the command is proposed, its round's write fails
        const refusedBefore = cluster.memoryEngine(id).refusedWrites
        yield* cluster.setDiskQuota(id, cluster.memoryEngine(id).usedBytes + 64, 0)
        const put = yield* Effect.fork(kv.rawPut("big", "x".repeat(1000)))
        yield* eventually(() => cluster.memoryEngine(id).refusedWrites > refusedBefore, {
          what: "a round's write refused"
        })
        // the worker waits on the write: the command is not answered, the store is not closed
        assert.isTrue(Option.isNone(yield* Fiber.poll(put)))
        assert.isFalse(cluster.store(id)!.isClosed())
        yield* cluster.setDiskQuota(id, undefined)
        assert.isTrue(Exit.isSuccess(yield* Fiber.await(put)))
        assert.strictEqual(text(yield* kv.rawGet("big")), "x".repeat(1000))
        yield* kv.rawPut("after", "2")
      }).pipe(Effect.provide(cluster.clientLayer()))
      // everything acknowledged was durable: a power loss keeps it
      yield* cluster.crashStore(id)
      yield* cluster.startStore(id)
      yield* cluster.mustGet("big", "x".repeat(1000))
      yield* cluster.mustGet("after", "2")
    }).pipe(Effect.scoped)
  )
})
