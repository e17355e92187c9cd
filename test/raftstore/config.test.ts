/** A raftstore refuses to start on a config its workers cannot run with (a zero tick would spin). */
import { assert, describe, it } from "@effect/vitest"
import { Cause, Effect, Exit, Layer } from "effect"
import { layerRaftStore } from "../../src/layers/raftStore.js"
import { makeClientLocal } from "../../src/layers/schedulerClientLocal.js"
import { layerMemory } from "../../src/layers/storageMemory.js"
import { layerTransportMemory, MemoryNetwork } from "../../src/layers/transportMemory.js"
import type { StoreId } from "../../src/protocol/ids.js"
import { defaultConfig, testConfig, validateConfig } from "../../src/raftstore/config.js"
import { makeScheduler } from "../../src/scheduler/service.js"
import { SchedulerClient } from "../../src/services/SchedulerClient.js"

describe("store config", () => {
  it("the test and default configs are valid; a zero tick or a short election is not", () => {
    assert.isUndefined(validateConfig(testConfig))
    assert.isUndefined(validateConfig(defaultConfig))
    assert.isDefined(validateConfig({ ...testConfig, baseTickMs: 0 }))
    assert.isDefined(validateConfig({ ...testConfig, electionTicks: testConfig.heartbeatTicks }))
  })

  it.scoped("the raftstore does not start on an invalid config", () =>
    Effect.gen(function* () {
      const network = yield* MemoryNetwork.make({ seed: 1 })
      const scheduler = yield* makeScheduler().pipe(Effect.provide(layerMemory))
      const deps = Layer.mergeAll(
        layerMemory,
        layerTransportMemory(network, 1 as StoreId),
        Layer.succeed(SchedulerClient, makeClientLocal(scheduler))
      )
      const config = { ...testConfig, baseTickMs: 0 }
      const exit = yield* Effect.exit(
        Layer.build(layerRaftStore({ storeId: 1 as StoreId, config, seed: 1 }).pipe(Layer.provide(deps)))
      )
      assert.isTrue(Exit.isFailure(exit) && Cause.isDie(exit.cause))
      assert.include(Cause.pretty((exit as Exit.Failure<unknown, unknown>).cause), "base tick")
    })
  )
})
