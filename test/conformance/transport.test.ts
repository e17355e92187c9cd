/** The Transport suite on both layers: in-process (memory network) and over TCP (RPC to live handlers). */
import { Context, Effect, Layer, Queue } from "effect"
import { layerTransportMemory, MemoryNetwork } from "../../src/layers/transportMemory.js"
import { layerTransportRpc } from "../../src/layers/transportRpc.js"
import type { StoreId } from "../../src/protocol/ids.js"
import { Transport } from "../../src/services/Transport.js"
import { type TransportNetwork, transportConformance } from "../../src/testing/conformance/transport.js"
import { startRaftStore } from "../transport/liveStore.js"

transportConformance(
  "memory",
  Effect.gen(function* () {
    const network = yield* MemoryNetwork.make({ seed: 1 })
    return {
      listen: (storeId, deliver) =>
        Effect.acquireRelease(network.register(storeId, deliver), () => network.unregister(storeId)),
      transport: (from) => Effect.map(Layer.build(layerTransportMemory(network, from)), Context.get(Transport))
    } satisfies TransportNetwork
  })
)

transportConformance(
  "rpc",
  Effect.sync(() => {
    // each listening store is a real RPC server with the Raft handlers, found through this map
    const addresses = new Map<StoreId, string>()
    return {
      listen: (storeId, deliver) =>
        Effect.gen(function* () {
          const store = yield* startRaftStore
          yield* Effect.forkScoped(Effect.forever(Effect.flatMap(Queue.take(store.inbox), deliver)))
          addresses.set(storeId, store.address)
        }),
      transport: () =>
        Effect.map(
          Layer.build(
            layerTransportRpc({
              resolve: (s) => Effect.sync(() => addresses.get(s)),
              backoffInitial: "20 millis",
              backoffMax: "100 millis"
            })
          ),
          Context.get(Transport)
        )
    } satisfies TransportNetwork
  })
)
