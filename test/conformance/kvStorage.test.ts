/**
 * The KvStorage suite on every layer: memory, standalone over lmdb, and raft over a running one-store
 * and three-store `TestCluster` (each write through the region's log; readers after a Snap on the leader).
 */
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Context, Effect, Layer } from "effect"
import { layerKvMemory, layerStandalone } from "../../src/layers/kvStorageStandalone.js"
import { layerKvStorageRaft } from "../../src/layers/kvStorageRaft.js"
import { layerLmdb } from "../../src/layers/storageLmdb.js"
import { utf8 } from "../../src/protocol/bytes.js"
import { KvStorage } from "../../src/services/KvStorage.js"
import { Router } from "../../src/services/Router.js"
import { type KvStorageSubject, kvStorageConformance } from "../../src/testing/conformance/kvStorage.js"
import { eventually } from "../../src/testing/eventually.js"
import { TestCluster } from "../../src/testing/TestCluster.js"

const standalone = (layer: Layer.Layer<KvStorage, unknown>) =>
  Effect.map(
    Layer.build(layer),
    (ctx): KvStorageSubject => ({
      storage: Context.get(ctx, KvStorage),
      context: () => Effect.succeed(undefined)
    })
  )

kvStorageConformance("memory", standalone(layerKvMemory))

kvStorageConformance(
  "standalone (lmdb)",
  Effect.gen(function* () {
    const dir = yield* Effect.acquireRelease(
      Effect.sync(() => mkdtempSync(join(tmpdir(), "tinykv-kv-conformance-"))),
      (d) => Effect.sync(() => rmSync(d, { recursive: true, force: true }))
    )
    return yield* standalone(layerStandalone.pipe(Layer.provide(layerLmdb(dir))))
  })
)

/** A started cluster of `stores`; the Raft KvStorage of the first region's leader, and contexts naming it. */
const raft = (stores: number) =>
  Effect.gen(function* () {
    const cluster = yield* TestCluster.make({ stores, seed: 3 })
    yield* cluster.start
    const { region } = yield* cluster.getRegion(utf8("conf-"))
    const leader = yield* eventually(() => cluster.leaderOf(region.id) ?? false, {
      what: "the first region to elect a leader",
      timeout: "15 seconds"
    })
    const store = cluster.store(leader.storeId)!
    const ctx = yield* Layer.build(
      layerKvStorageRaft({ commandTimeoutMs: 5_000 }).pipe(
        Layer.provide(Layer.merge(Layer.succeed(Router, store.router), cluster.storageLayer(leader.storeId)))
      )
    )
    return {
      storage: Context.get(ctx, KvStorage),
      // NB: the epoch from the store itself; the scheduler's copy may lag the first heartbeat
      context: () => Effect.sync(() => ({ regionId: region.id, regionEpoch: region.regionEpoch, peer: leader }))
    } satisfies KvStorageSubject
  })

kvStorageConformance("raft (one store)", raft(1))
kvStorageConformance("raft (three stores)", raft(3))
