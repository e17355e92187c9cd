/**
 * TinyKV 2C: log GC and snapshots. TestOneSnapshot2C isolates a store while the others
 * compact their log past it, so it can only catch up through a snapshot — which must carry the lock CF
 * and the deletion made meanwhile.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Fiber, Ref } from "effect"
import { fromUtf8, utf8 } from "../../src/protocol/bytes.js"
import type { StoreId } from "../../src/protocol/ids.js"
import { mulberry32 } from "../../src/raft/index.js"
import { RaftApplyStateCodec } from "../../src/raftstore/codec.js"
import { applyStateKey, RAFT_INIT_LOG_INDEX, RAFT_INIT_LOG_TERM } from "../../src/raftstore/keys.js"
import { eventually } from "../../src/testing/eventually.js"
import { TestCluster } from "../../src/testing/TestCluster.js"
import { genericTest, genericTimeout, testSeed } from "./generic.js"
import { REGION_1, sendTo, waitLeader, waitStableLeader } from "./helpers.js"

const applyState = (cluster: TestCluster, id: StoreId) =>
  Effect.map(cluster.engineMeta(id, applyStateKey(REGION_1)), (raw) => {
    if (raw === undefined) throw new Error(`store ${id} has no apply state`)
    return RaftApplyStateCodec.decode(raw)
  })

describe("raftstore 2C snapshots", () => {
  it.live(
    "TestOneSnapshot2C",
    () =>
      Effect.gen(function* () {
        const seed = testSeed()
        const limit = 10
        const cluster = yield* TestCluster.make({ stores: 3, seed, config: { raftLogGcCountLimit: limit } })
        yield* cluster.start
        yield* cluster.mustPut("k1", "v1", "lock")
        yield* cluster.mustPut("k2", "v2", "lock")
        yield* cluster.mustEngineHave(1 as StoreId, "k1", "v1", "lock")
        yield* cluster.mustEngineHave(1 as StoreId, "k2", "v2", "lock")
        for (const id of cluster.storeIds) {
          const s = yield* applyState(cluster, id)
          assert.deepStrictEqual(
            s.truncatedState,
            { index: RAFT_INIT_LOG_INDEX, term: RAFT_INIT_LOG_TERM },
            `seed ${seed}`
          )
        }

        yield* cluster.isolate(1)
        // enough writes that the others compact their log past what store 1 has
        for (let i = 100; i < 115; i++) yield* cluster.mustPut(`k${i}`, `v${i}`, "lock")
        yield* cluster.mustDelete("k2", "lock")
        // wait for the others to compact (a raft-log GC tick after the writes apply)
        yield* eventually(
          Effect.forEach([2, 3] as Array<StoreId>, (id) =>
            Effect.map(applyState(cluster, id), (s) =>
              assert.isAbove(
                s.truncatedState.index,
                RAFT_INIT_LOG_INDEX + 2,
                `seed ${seed}: store ${id} did not compact`
              )
            )
          ),
          { what: "stores 2 and 3 to compact their log" }
        )
        yield* cluster.mustEngineHave(1 as StoreId, "k100", undefined, "lock")

        let snapshotsToStore1 = 0
        yield* cluster.observe((d) => {
          if (d.to === 1 && d.message.message.msgType === "MsgSnapshot") snapshotsToStore1++
        })
        yield* cluster.clearFilters
        // the snapshot brings everything, including the deletion
        yield* cluster.mustEngineHave(1 as StoreId, "k1", "v1", "lock")
        yield* cluster.mustEngineHave(1 as StoreId, "k100", "v100", "lock")
        yield* cluster.mustEngineHave(1 as StoreId, "k114", "v114", "lock")
        yield* cluster.mustEngineHave(1 as StoreId, "k2", undefined, "lock")
        assert.isAtLeast(snapshotsToStore1, 1, `seed ${seed}: store 1 caught up without a snapshot`)
        assert.isAbove((yield* applyState(cluster, 1 as StoreId)).truncatedState.index, RAFT_INIT_LOG_INDEX)

        yield* cluster.stopStore(1 as StoreId)
        yield* cluster.startStore(1 as StoreId)
        yield* cluster.mustEngineHave(1 as StoreId, "k1", "v1", "lock")
        yield* cluster.mustEngineHave(1 as StoreId, "k2", undefined, "lock")
        for (const id of cluster.storeIds) {
          const s = yield* applyState(cluster, id)
          assert.isAtMost(s.appliedIndex - s.truncatedState.index, 2 * limit, `seed ${seed}: store ${id} kept its log`)
        }
      }).pipe(Effect.scoped),
    60_000
  )

  it.live(
    "snapshots while clients write: every replica converges to exactly the acknowledged data",
    () =>
      Effect.gen(function* () {
        const seed = testSeed()
        const rand = mulberry32(seed)
        const cluster = yield* TestCluster.make({ stores: 5, seed, config: { raftLogGcCountLimit: 10 } })
        let snapshots = 0
        yield* cluster.observe((d) => {
          if (d.message.message.msgType === "MsgSnapshot") snapshots++
        })
        yield* cluster.start
        const done = yield* Ref.make(false)
        const expected: Array<string> = []
        const writer = (w: number) =>
          Effect.gen(function* () {
            for (let j = 0; !(yield* Ref.get(done)); j++) {
              const key = `w${w} ${String(j).padStart(8, "0")}`
              yield* cluster.mustPut(key, `v ${w} ${j}`)
              expected.push(`${key}=v ${w} ${j}`)
            }
          })
        const writers = yield* Effect.forEach([0, 1, 2], (w) => Effect.fork(writer(w)))
        // each store in turn misses more than a log's worth of writes, then must catch up by snapshot
        for (let round = 0; round < 5; round++) {
          const isolated = (1 + Math.floor(rand() * 5)) as StoreId
          yield* cluster.isolate(isolated)
          // wait for more than a log's worth of writes (not a fixed time: a loaded machine writes slowly),
          // and for the majority to compact past what the isolated store applied, so it can only catch up by snapshot
          const before = expected.length
          yield* eventually(() => expected.length - before >= 4 * 10, {
            what: `seed ${seed}: 40 writes while store ${isolated} is cut off`,
            interval: "50 millis"
          })
          const appliedWhenCut = (yield* applyState(cluster, isolated)).appliedIndex
          const majority = cluster.storeIds.filter((id) => id !== isolated) as Array<StoreId>
          yield* eventually(
            Effect.forEach(majority, (id) =>
              Effect.map(applyState(cluster, id), (s) =>
                assert.isAbove(s.truncatedState.index, appliedWhenCut, `store ${id} has not compacted past it`)
              )
            ),
            { what: `seed ${seed}: the majority to compact past store ${isolated}'s applied index` }
          )
          yield* cluster.clearFilters
          // healed: wait for the isolated store to catch up past the majority's compacted log before the next round
          const compacted = (yield* applyState(cluster, majority[0]!)).truncatedState.index
          yield* eventually(
            Effect.map(applyState(cluster, isolated), (s) =>
              assert.isAtLeast(s.appliedIndex, compacted, `store ${isolated} applied ${s.appliedIndex}`)
            ),
            { what: `seed ${seed}: store ${isolated} to catch up to index ${compacted}` }
          )
        }
        yield* Ref.set(done, true)
        for (const f of writers) yield* Fiber.join(f)
        expected.sort()
        for (const id of cluster.storeIds) {
          yield* eventually(
            Effect.map(cluster.engineScan(id, "default", utf8("w"), utf8("x")), (kvs) =>
              assert.deepStrictEqual(
                kvs.map((kv) => `${fromUtf8(kv.key)}=${fromUtf8(kv.value)}`),
                expected,
                `seed ${seed}: store ${id}`
              )
            ),
            { what: `store ${id} to hold exactly the acknowledged writes`, interval: "20 millis" }
          )
        }
        assert.isAbove(expected.length, 50, `seed ${seed}: too few writes to need snapshots`)
        assert.isAtLeast(snapshots, 1, `seed ${seed}: no store caught up by snapshot`)
      }).pipe(Effect.scoped),
    60_000
  )

  it.live(
    "a proposal overtaken by a snapshot is answered with an error and never applied",
    () =>
      Effect.gen(function* () {
        const seed = testSeed()
        const cluster = yield* TestCluster.make({ stores: 3, seed, config: { raftLogGcCountLimit: 10 } })
        yield* cluster.start
        yield* cluster.mustPut("k0", "v0")
        const old = yield* waitStableLeader(cluster)
        yield* cluster.isolate(old.storeId)
        // proposed on the deposed leader: appended to its log, never committed
        const orphan = yield* Effect.fork(
          sendTo(cluster, old, [{ _tag: "Put", cf: "default", key: utf8("orphan"), value: utf8("x") }], 20_000)
        )
        const others = cluster.storeIds.filter((id) => id !== old.storeId)
        yield* waitLeader(cluster, REGION_1, others)
        for (let i = 1; i <= 30; i++) yield* cluster.mustPut(`k${i}`, `v${i}`)
        yield* cluster.clearFilters
        // no more writes: the old leader catches up by snapshot alone, which must answer the orphan
        yield* cluster.mustEngineHave(old.storeId, "k30", "v30")
        const answer = yield* Fiber.join(orphan).pipe(Effect.timeout("3 seconds"))
        assert.isDefined(answer.header.error, `seed ${seed}: the orphan proposal was acknowledged`)
        for (const id of cluster.storeIds) yield* cluster.mustEngineHave(id, "orphan", undefined)
      }).pipe(Effect.scoped),
    30_000
  )

  it.live("TestSnapshotRecover2C", () => genericTest({ clients: 1, crash: true, maxRaftLog: 100 }), genericTimeout())
  it.live(
    "TestSnapshotRecoverManyClients2C",
    () => genericTest({ clients: 20, crash: true, maxRaftLog: 100 }),
    genericTimeout()
  )
})
