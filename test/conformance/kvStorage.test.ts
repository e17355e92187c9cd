/**
 * The KvStorage suite on every layer: memory, standalone over lmdb, and raft over a running one-store
 * and three-store `TestCluster` (each write through the region's log; readers after a Snap on the leader).
 */
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Context, Effect, Layer, Scope } from "effect"
import { layerKvMemory, layerStandalone } from "../../src/layers/kvStorageStandalone.js"
import { layerKvStorageRaft } from "../../src/layers/kvStorageRaft.js"
import { layerLmdb } from "../../src/layers/storageLmdb.js"
import { utf8 } from "../../src/protocol/bytes.js"
import type { StoreId } from "../../src/protocol/ids.js"
import type { Context as RequestContext } from "../../src/protocol/kvrpc.js"
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

/**
 * A started cluster of `stores`. The storage hands each call to the Raft KvStorage of the store its
 * context names (as a server does with the requests addressed to it); the context names the first
 * region's current leader, with the epoch as that store sees it.
 */
const raft = (stores: number) =>
  Effect.gen(function* () {
    const cluster = yield* TestCluster.make({ stores, seed: 3 })
    yield* cluster.start
    const { region } = yield* cluster.getRegion(utf8("conf-"))
    const perStore = new Map<StoreId, KvStorage["Type"]>()
    const storageOf = (id: StoreId) =>
      Effect.gen(function* () {
        const cached = perStore.get(id)
        if (cached !== undefined) return cached
        const store = cluster.store(id)
        if (store === undefined) return yield* Effect.dieMessage(`store ${id} is not running`)
        const ctx = yield* Layer.build(
          layerKvStorageRaft({ commandTimeoutMs: 5_000 }).pipe(
            Layer.provide(Layer.merge(Layer.succeed(Router, store.router), cluster.storageLayer(id)))
          )
        )
        perStore.set(id, Context.get(ctx, KvStorage))
        return Context.get(ctx, KvStorage)
      })
    const scope = yield* Effect.scope
    const route = (context: RequestContext | undefined) =>
      context === undefined
        ? Effect.dieMessage("a replicated store needs a context")
        : Scope.extend(Effect.orDie(storageOf(context.peer.storeId)), scope)
    const storage = KvStorage.of({
      write: (context, space, batch) => Effect.flatMap(route(context), (s) => s.write(context, space, batch)),
      reader: (context, space) => Effect.flatMap(route(context), (s) => s.reader(context, space))
    })
    const context = () =>
      Effect.map(
        eventually(() => cluster.leaderOf(region.id) ?? false, {
          what: "the first region to have a leader",
          timeout: "15 seconds"
        }),
        (leader): RequestContext => ({
          regionId: region.id,
          regionEpoch: cluster.store(leader.storeId)?.peers.get(region.id)?.region.regionEpoch ?? region.regionEpoch,
          peer: leader
        })
      )
    return { storage, context } satisfies KvStorageSubject
  })

kvStorageConformance("raft (one store)", raft(1))
kvStorageConformance("raft (three stores)", raft(3))
