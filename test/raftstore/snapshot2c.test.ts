/**
 * TinyKV 2C (reference §4.3): log GC and snapshots. TestOneSnapshot2C isolates a store while the others
 * compact their log past it, so it can only catch up through a snapshot — which must carry the lock CF
 * and the deletion made meanwhile.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import type { StoreId } from "../../src/protocol/ids.js"
import { RaftApplyStateCodec } from "../../src/raftstore/codec.js"
import { applyStateKey, RAFT_INIT_LOG_INDEX, RAFT_INIT_LOG_TERM } from "../../src/raftstore/keys.js"
import { Filters, TestCluster } from "../../src/testing/index.js"
import { genericTest, testSeed } from "./generic.js"
import { REGION_1 } from "./helpers.js"

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
          assert.deepStrictEqual(s.truncatedState, { index: RAFT_INIT_LOG_INDEX, term: RAFT_INIT_LOG_TERM }, `seed ${seed}`)
        }

        yield* cluster.isolate(1)
        // enough writes that the others compact their log past what store 1 has
        for (let i = 100; i < 115; i++) yield* cluster.mustPut(`k${i}`, `v${i}`, "lock")
        yield* cluster.mustDelete("k2", "lock")
        yield* Effect.sleep("500 millis")
        yield* cluster.mustEngineHave(1 as StoreId, "k100", undefined, "lock")
        for (const id of [2, 3] as Array<StoreId>) {
          const s = yield* applyState(cluster, id)
          assert.isAbove(s.truncatedState.index, RAFT_INIT_LOG_INDEX + 2, `seed ${seed}: store ${id} did not compact`)
        }

        yield* cluster.clearFilters
        let snapshotsToStore1 = 0
        yield* cluster.network.addFilters(
          Filters.hook((d) => {
            if (d.to === 1 && d.message.message.msgType === "MsgSnapshot") snapshotsToStore1++
            return true
          })
        )
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

  it.live("TestSnapshotRecover2C", () => genericTest({ clients: 1, crash: true, maxRaftLog: 100 }), 60_000)
  it.live(
    "TestSnapshotRecoverManyClients2C",
    () => genericTest({ clients: 20, crash: true, maxRaftLog: 100 }),
    90_000
  )
})
