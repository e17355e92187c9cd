/**
 * One raftstore on a memory engine, outside a TestCluster: for tests that talk to its Router and
 * StoreWorker directly. Messages it sends go to the memory network, where a test may register fake stores.
 */
import { Context, Effect, Exit, Layer, Scope } from "effect"
import { makeClientLocal } from "../../src/layers/schedulerClientLocal.js"
import { layerMemory, layerMemoryFrom, type MemoryEngine } from "../../src/layers/storageMemory.js"
import { layerTransportMemory, type MemoryNetwork } from "../../src/layers/transportMemory.js"
import type { StoreId } from "../../src/protocol/ids.js"
import { type StoreConfig, testConfig } from "../../src/raftstore/config.js"
import { layerRaftStore } from "../../src/layers/raftStore.js"
import { makeScheduler } from "../../src/scheduler/service.js"
import { PeerRegistry } from "../../src/raftstore/peerRegistry.js"
import { RaftWorker } from "../../src/services/RaftWorker.js"
import { Router } from "../../src/services/Router.js"
import { SchedulerClient } from "../../src/services/SchedulerClient.js"
import { StoreWorker } from "../../src/services/StoreWorker.js"
import { eventually as eventuallyShared } from "../../src/testing/eventually.js"

/**
 * Starts store `storeId` on `engine` in a scope of its own (`stop` closes it). Besides the store's public
 * face (`store`) it hands out the raftstore's services, for tests that watch a worker or the registry.
 */
export const runStore = (
  engine: MemoryEngine,
  network: MemoryNetwork,
  storeId: StoreId,
  config: StoreConfig = testConfig
) =>
  Effect.gen(function* () {
    const scheduler = yield* makeScheduler().pipe(Effect.provide(layerMemory))
    const scope = yield* Scope.make()
    const ctx = yield* Layer.buildWithScope(
      Layer.mergeAll(
        layerMemoryFrom(engine),
        layerTransportMemory(network, storeId),
        Layer.succeed(SchedulerClient, makeClientLocal(scheduler))
      ),
      scope
    )
    const services = yield* Layer.buildWithScope(
      layerRaftStore({ storeId, config, seed: 7 }).pipe(Layer.provide(Layer.succeedContext(ctx))),
      scope
    )
    const registry = Context.get(services, PeerRegistry)
    const store = { storeId, router: Context.get(services, Router), peers: registry.peers }
    yield* network.register(storeId, store.router.sendRaftMessage)
    return {
      store,
      registry,
      raftWorker: Context.get(services, RaftWorker),
      storeWorker: Context.get(services, StoreWorker),
      stop: Effect.zipRight(network.unregister(storeId), Scope.close(scope, Exit.void))
    }
  })

/** Waits (the shared `eventually`, every 10 ms) until `cond` holds, up to `timeoutMs`; dies naming `what` otherwise. */
export const eventually = (what: string, cond: () => boolean, timeoutMs = 3_000) =>
  eventuallyShared(cond, { what, timeout: `${timeoutMs} millis`, interval: "10 millis" }).pipe(
    Effect.asVoid,
    Effect.orDie
  )
