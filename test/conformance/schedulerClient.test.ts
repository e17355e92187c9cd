/** The SchedulerClient suite on both layers: in-process and over RPC to a scheduler server on a free port. */
import { Effect } from "effect"
import { makeClientLocal } from "../../src/layers/schedulerClientLocal.js"
import { connectScheduler } from "../../src/rpc/schedulerConnection.js"
import { layerMemory } from "../../src/layers/storageMemory.js"
import { makeScheduler } from "../../src/scheduler/service.js"
import { schedulerClientConformance } from "../../src/testing/conformance/schedulerClient.js"
import { startScheduler } from "../scheduler/support.js"

schedulerClientConformance("local", Effect.map(makeScheduler().pipe(Effect.provide(layerMemory)), makeClientLocal))

schedulerClientConformance(
  "rpc",
  Effect.flatMap(startScheduler(), ({ address }) => connectScheduler({ address })),
  {
    unreachable: Effect.gen(function* () {
      // a port that was just free: a scheduler bound it and closed it again
      const port = yield* Effect.scoped(Effect.map(startScheduler(), (s) => s.port))
      return yield* connectScheduler({ address: `127.0.0.1:${port}`, timeout: "200 millis", deadline: "600 millis" })
    })
  }
)
