/** The Tso suite on the local oracle and on the scheduler's (in-process, and over RPC on the live clock). */
import { Effect, Layer } from "effect"
import { layerClientLocal } from "../../src/layers/schedulerClientLocal.js"
import { connectScheduler } from "../../src/rpc/schedulerConnection.js"
import { layerScheduler } from "../../src/layers/schedulerServer.js"
import { layerMemoryFrom, MemoryEngine } from "../../src/layers/storageMemory.js"
import { layerTsoLocal } from "../../src/layers/tsoLocal.js"
import { layerTsoScheduler } from "../../src/layers/tsoScheduler.js"
import { SchedulerClient } from "../../src/services/SchedulerClient.js"
import { tsoConformance } from "../../src/testing/conformance/tso.js"
import { startScheduler } from "../scheduler/support.js"

tsoConformance("local", {
  fresh: () => {
    const engine = new MemoryEngine()
    const layer = () => layerTsoLocal.pipe(Layer.provide(layerMemoryFrom(engine)))
    return { layer: layer(), restart: layer }
  }
})

tsoConformance("scheduler (local client)", {
  fresh: () => {
    const engine = new MemoryEngine()
    const layer = () =>
      layerTsoScheduler.pipe(
        Layer.provide(layerClientLocal),
        Layer.provide(layerScheduler()),
        Layer.provide(layerMemoryFrom(engine))
      )
    return { layer: layer(), restart: layer }
  }
})

tsoConformance("scheduler (rpc client)", {
  live: true,
  fresh: () => ({
    layer: layerTsoScheduler.pipe(
      Layer.provide(
        Layer.scoped(
          SchedulerClient,
          Effect.flatMap(startScheduler(), ({ address }) => connectScheduler({ address }))
        )
      )
    )
  })
})
