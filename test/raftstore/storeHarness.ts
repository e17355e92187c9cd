/**
 * One raftstore on a memory engine, outside a TestCluster: for tests that talk to its Router and
 * StoreWorker directly. Messages it sends go to the memory network, where a test may register fake stores.
 */
import { Clock, Effect, Exit, Layer, Scope } from "effect"
import { makeClientLocal } from "../../src/layers/schedulerClientLocal.js"
import { layerMemory, layerMemoryFrom, type MemoryEngine } from "../../src/layers/storageMemory.js"
import { layerTransportMemory, type MemoryNetwork } from "../../src/layers/transportMemory.js"
import type { StoreId } from "../../src/protocol/ids.js"
import { testConfig } from "../../src/raftstore/config.js"
import { makeRaftStore } from "../../src/raftstore/store.js"
import { makeScheduler } from "../../src/scheduler/service.js"
import { SchedulerClient } from "../../src/services/SchedulerClient.js"

/** Starts store `storeId` on `engine` in a scope of its own; close the scope to stop it. */
export const runStore = (engine: MemoryEngine, network: MemoryNetwork, storeId: StoreId) =>
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
    const store = yield* makeRaftStore({ storeId, config: testConfig, seed: 7 }).pipe(
      Effect.provide(ctx),
      Scope.extend(scope)
    )
    yield* network.register(storeId, store.router.sendRaftMessage)
    return { store, stop: Effect.zipRight(network.unregister(storeId), Scope.close(scope, Exit.void)) }
  })

/** Polls `cond` every 10 ms until it holds, up to `timeoutMs`; dies with `what` otherwise. */
export const eventually = (what: string, cond: () => boolean, timeoutMs = 3_000) =>
  Effect.gen(function* () {
    const deadline = (yield* Clock.currentTimeMillis) + timeoutMs
    while (!cond()) {
      if ((yield* Clock.currentTimeMillis) > deadline) return yield* Effect.dieMessage(`timed out waiting: ${what}`)
      yield* Effect.sleep("10 millis")
    }
  })
