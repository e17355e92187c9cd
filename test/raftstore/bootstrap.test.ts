/**
 * Bootstrapping (TinyKV `bootstrap_test.go`): a store's ident is written once and binds
 * the engine to that store; the first region is prepared on every initial store at log 5/5.
 */
import { assert, describe, it } from "@effect/vitest"
import { Cause, Effect, Exit, Layer } from "effect"
import { startRaftStore, StoreIdentMismatch } from "../../src/layers/raftStore.js"
import { makeClientLocal } from "../../src/layers/schedulerClientLocal.js"
import { layerMemory, layerMemoryFrom, MemoryEngine } from "../../src/layers/storageMemory.js"
import { layerTransportMemory, MemoryNetwork } from "../../src/layers/transportMemory.js"
import type { RegionId, StoreId } from "../../src/protocol/ids.js"
import {
  FIRST_REGION_ID,
  firstRegion,
  hasRegions,
  prepareRegionOps,
  readStoreIdent,
  storeIdentOps
} from "../../src/raftstore/bootstrap.js"
import { RaftApplyStateCodec, RaftLocalStateCodec, RegionLocalStateCodec } from "../../src/raftstore/codec.js"
import { testConfig } from "../../src/raftstore/config.js"
import { applyStateKey, raftStateKey, regionStateKey, STORE_IDENT_KEY } from "../../src/raftstore/keys.js"
import { PeerStorage } from "../../src/raftstore/peerStorage.js"
import { makeScheduler } from "../../src/scheduler/service.js"
import { SchedulerClient } from "../../src/services/SchedulerClient.js"
import { TestCluster } from "../../src/testing/TestCluster.js"

const ids = (...n: Array<number>) => n as Array<StoreId>

describe("bootstrap", () => {
  it("TestBootstrapStore: ident and the first region's states", () => {
    const engine = new MemoryEngine()
    assert.isUndefined(readStoreIdent(engine))
    engine.write(storeIdentOps(3 as StoreId, 42))
    assert.deepStrictEqual(readStoreIdent(engine), { clusterId: 42, storeId: 3 })

    const region = firstRegion(ids(1, 2, 3))
    assert.strictEqual(region.id, FIRST_REGION_ID)
    assert.deepStrictEqual(
      region.peers.map((p) => [p.id, p.storeId]),
      [
        [1, 1],
        [2, 2],
        [3, 3]
      ],
      "peer id = store id"
    )
    assert.deepStrictEqual(region.regionEpoch, { confVer: 1, version: 1 })
    assert.isFalse(hasRegions(engine))
    engine.write(prepareRegionOps(region))
    assert.isTrue(hasRegions(engine))
    // the region's raft and apply states start at 5/5 (TinyKV `InitRaftLocalState` / `InitApplyState`)
    const { initOps } = PeerStorage.load(engine, region)
    engine.write(initOps)
    assert.deepStrictEqual(RegionLocalStateCodec.decode(engine.get("meta", regionStateKey(region.id))!), {
      state: "Normal",
      region
    })
    assert.deepStrictEqual(RaftLocalStateCodec.decode(engine.get("raft", raftStateKey(region.id))!), {
      hardState: { term: 5, vote: 0, commit: 5 },
      lastIndex: 5,
      lastTerm: 5
    })
    assert.deepStrictEqual(RaftApplyStateCodec.decode(engine.get("meta", applyStateKey(region.id))!), {
      appliedIndex: 5,
      truncatedState: { index: 5, term: 5 }
    })
    // a second load finds everything in place and writes nothing
    assert.deepStrictEqual(PeerStorage.load(engine, region).initOps, [])
  })

  it.live("a store's ident is written once; the engine then refuses another store id", () =>
    Effect.gen(function* () {
      const engine = new MemoryEngine()
      const scheduler = yield* makeScheduler().pipe(Effect.provide(layerMemory))
      const network = yield* MemoryNetwork.make({ seed: 1 })
      const start = (storeId: StoreId) =>
        Effect.scoped(
          startRaftStore({
            storeId,
            address: `memory://${storeId}`,
            initialStores: ids(1),
            config: testConfig,
            seed: 1
          }).pipe(
            Effect.provide(
              Layer.mergeAll(
                layerMemoryFrom(engine),
                layerTransportMemory(network, storeId),
                Layer.succeed(SchedulerClient, makeClientLocal(scheduler))
              )
            )
          )
        )
      yield* start(1 as StoreId)
      const ident = engine.get("meta", STORE_IDENT_KEY)!
      assert.deepStrictEqual(readStoreIdent(engine), { clusterId: 0, storeId: 1 })
      yield* start(1 as StoreId)
      assert.deepStrictEqual(engine.get("meta", STORE_IDENT_KEY), ident, "a restart does not rewrite the ident")
      const exit = yield* Effect.exit(start(2 as StoreId))
      assert.isTrue(Exit.isFailure(exit))
      if (Exit.isFailure(exit)) {
        const defect = Cause.dieOption(exit.cause)
        assert.isTrue(defect._tag === "Some" && defect.value instanceof StoreIdentMismatch, String(exit.cause))
      }
    })
  )

  it.live("a cluster's first start prepares the same first region on every store", () =>
    Effect.gen(function* () {
      const cluster = yield* TestCluster.make({ stores: 3 })
      yield* cluster.start
      for (const id of cluster.storeIds) {
        const raw = yield* cluster.engineMeta(id, regionStateKey(1 as RegionId))
        const state = RegionLocalStateCodec.decode(raw!)
        assert.strictEqual(state.state, "Normal")
        assert.deepStrictEqual(state.region, firstRegion(cluster.storeIds))
        const ident = yield* cluster.engineMeta(id, STORE_IDENT_KEY)
        assert.isDefined(ident)
      }
      const known = yield* cluster.getRegion(new Uint8Array())
      assert.deepStrictEqual(known.region, firstRegion(cluster.storeIds), "the scheduler was bootstrapped with it")
    }).pipe(Effect.scoped)
  )
})
