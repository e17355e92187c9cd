/**
 * TinyKV 2B partitions and linearizable reads: a leader deposed into a minority must not
 * answer a read with a value the majority has since overwritten — reads go through the log, so its read
 * can never commit — while the new leader serves the new value.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Either, Fiber, Option } from "effect"
import { utf8 } from "../../src/protocol/bytes.js"
import { TestCluster } from "../../src/testing/TestCluster.js"
import { genericTest, genericTimeout, testSeed } from "./generic.js"
import { getValue, neverWithin, REGION_1, sendTo, waitLeader, waitStableLeader } from "./helpers.js"

describe("raftstore 2B partitions", () => {
  it.live("TestManyPartitionsOneClient2B", () => genericTest({ clients: 1, partitions: true }), genericTimeout())
  it.live("TestManyPartitionsManyClients2B", () => genericTest({ clients: 5, partitions: true }), genericTimeout())

  it.live(
    "a deposed leader cut off in a minority never serves a stale read",
    () =>
      Effect.gen(function* () {
        const seed = testSeed()
        // without CheckQuorum: the deposed leader must keep believing it leads, so that what is tested is that
        // reads go through the log (with it, the old leader steps down and answers NotLeader instead)
        const cluster = yield* TestCluster.make({ stores: 5, seed, config: { checkQuorum: false } })
        yield* cluster.start
        yield* cluster.mustPut("k", "old")
        for (const id of cluster.storeIds) yield* cluster.mustEngineHave(id, "k", "old")
        const oldLeader = yield* waitStableLeader(cluster)
        const follower = cluster.storeIds.find((id) => id !== oldLeader.storeId)!
        const minority = [oldLeader.storeId, follower]
        const majority = cluster.storeIds.filter((id) => !minority.includes(id))
        yield* cluster.partition(minority, majority)

        const newLeader = yield* waitLeader(cluster, REGION_1, majority)
        // the old leader has heard nothing of the new term: it still believes it leads
        assert.isTrue(cluster.store(oldLeader.storeId)?.peers.get(REGION_1)?.isLeader, `seed ${seed}`)
        const put = yield* sendTo(
          cluster,
          newLeader,
          [{ _tag: "Put", cf: "default", key: utf8("k"), value: utf8("new") }],
          5_000
        )
        assert.isUndefined(put.header.error, `seed ${seed}`)

        // the read routed to the old leader cannot commit: it stays unanswered, and is never answered "old"
        const staleRead = yield* Effect.fork(
          sendTo(cluster, oldLeader, [{ _tag: "Get", cf: "default", key: utf8("k") }], 10_000)
        )
        // "never answered" is an absence, which no condition signals: watch the read for a bounded window
        yield* neverWithin(
          Effect.map(Fiber.poll(staleRead), (done) => (Option.isNone(done) ? false : `answered ${String(done.value)}`)),
          { what: `seed ${seed}: the deposed leader leaves the read unanswered`, window: "1500 millis" }
        )
        assert.isTrue(Option.isNone(yield* Fiber.poll(staleRead)), `seed ${seed}: the deposed leader answered a read`)

        const fresh = yield* sendTo(cluster, newLeader, [{ _tag: "Get", cf: "default", key: utf8("k") }], 5_000)
        assert.strictEqual(getValue(fresh), "new", `seed ${seed}`)

        // healed: the old leader learns of the new term and its read entry is overwritten — answered with an
        // error (stale command), never with the old value
        yield* cluster.clearFilters
        const late = yield* Effect.either(Fiber.join(staleRead))
        assert.isTrue(Either.isRight(late), `seed ${seed}: the deposed leader's read was never answered`)
        if (Either.isRight(late)) {
          assert.strictEqual(late.right.header.error?._tag, "StaleCommand", `seed ${seed}`)
          assert.isUndefined(getValue(late.right), `seed ${seed}: the deposed leader's read applied`)
        }
        yield* cluster.mustEngineHave(oldLeader.storeId, "k", "new")
      }).pipe(Effect.scoped),
    60_000
  )
})
